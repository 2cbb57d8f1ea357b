"""The demo's knowledge base (`casedesk demo`): the support and escalation process, how
to escalate a ticket, and the categories and priority policy, in English and Arabic,
written for casedesk from the process it implements. Safe to run again: an article that
exists (by its address) is left as it is, edits included."""

from __future__ import annotations

from collections.abc import Sequence

from casedesk.accounts.models import User
from casedesk.kb.actions import Text, save_article
from casedesk.kb.models import Article, Category, Section

CATEGORY = ("Getting help", {"ar": "الحصول على المساعدة"})
SECTIONS = {
    "process": ("Support process", {"ar": "آلية الدعم"}),
    "policy": ("Policies", {"ar": "السياسات"}),
}

TIMES_EN = [
    ("Priority", "When to choose it", "Standard", "Premium"),
    ("High (Critical)", "Critical functions cannot be used, often or for long",
     "within 2 hours", "within 1 hour"),
    ("Medium (Major)", "Non-critical functions fail consistently, critical ones "
     "occasionally, or a critical issue has a temporary workaround",
     "within 8 hours", "within 4 hours"),
    ("Low (Minor)", "Some impact on administration or secondary functions, or a major "
     "issue with a temporary workaround", "within 72 hours", "within 48 hours"),
    ("Question (Request)", "The service works: advice, information or a feature question",
     "within 96 hours", "within 72 hours"),
]
TIMES_AR = [
    ("الأولوية", "متى تختارها", "الباقة القياسية", "الباقة المميزة"),
    ("عالية (حرجة)", "تعذّر استخدام الوظائف الحرجة بشكل متكرر أو لمدة طويلة",
     "خلال ساعتين", "خلال ساعة واحدة"),
    ("متوسطة (كبيرة)", "تعطّل الوظائف غير الحرجة باستمرار أو الحرجة أحيانًا، أو مشكلة "
     "حرجة لها حل مؤقت", "خلال 8 ساعات", "خلال 4 ساعات"),
    ("منخفضة (بسيطة)", "أثر على الإدارة أو الوظائف الثانوية، أو مشكلة كبيرة لها حل مؤقت",
     "خلال 72 ساعة", "خلال 48 ساعة"),
    ("استفسار (طلب)", "الخدمة تعمل: نصيحة أو معلومات أو سؤال عن ميزة",
     "خلال 96 ساعة", "خلال 72 ساعة"),
]


def table(rows: Sequence[tuple[str, ...]]) -> str:
    """A Markdown table: the first row is the header."""
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    return "\n".join(lines)


PROCESS_EN = """\
Our engineers support you **around the clock, every day of the year**, from the Middle
East and North Africa. This page explains how to reach us, what happens to your case and
how fast we answer.

## Opening a case

The web portal is the best way to open a case: it asks for everything an engineer needs.

1. Open the support portal and choose **Submit a ticket**.
2. Fill in the required fields. They are marked with an orange `*`.
3. Describe the problem clearly: what happened, since when, and what you already tried.
4. Attach a screenshot or a log if it helps (optional).
5. Choose **Submit ticket**.

You get a **Case ID** straight away, by email too. It is a number only; keep it, because
you need it to follow up or to escalate. Once the case is open you can also reply to our
emails to add information: your reply lands on the same case.

## Your portal account

Your first case brings an invitation to create your account. Once you have set a password,
**Sign in** (top corner of the portal) to see and follow your cases, and, if your
organization allows it, every case of your organization.

## Response times

The priority you choose sets how soon an engineer responds at the latest:

TABLE

## Not happy with the progress?

You can escalate a case at any time: see [Escalate a Ticket](/kb/articles/escalate-a-ticket/),
or call our support team and quote your Case ID. Each escalation moves the case up our
escalation matrix, and the right engineers are assigned to drive it to a resolution.
""".replace("TABLE", table(TIMES_EN))

PROCESS_AR = """\
يعمل مهندسونا على دعمك **على مدار الساعة طوال أيام السنة** من منطقة الشرق الأوسط وشمال
أفريقيا. توضح هذه الصفحة طرق التواصل معنا، وما يحدث لطلبك، ومدى سرعة الرد عليه.

## فتح طلب

بوابة الدعم هي أفضل طريقة لفتح طلب، لأنها تطلب كل ما يحتاجه المهندس.

1. افتح بوابة الدعم واختر **إرسال طلب**.
2. املأ الحقول الإلزامية، وهي المعلّمة بعلامة `*` برتقالية.
3. صف المشكلة بوضوح: ماذا حدث، ومنذ متى، وما الذي جرّبته.
4. أرفق لقطة شاشة أو سجلًا إن كان ذلك مفيدًا (اختياري).
5. اختر **إرسال الطلب**.

تحصل فورًا على **رقم الطلب**، ويصلك أيضًا بالبريد الإلكتروني. وهو أرقام فقط؛ احتفظ به
لأنك تحتاجه للمتابعة أو للتصعيد. وبعد فتح الطلب يمكنك الرد على رسائلنا لإضافة معلومات،
فيُضاف ردك إلى الطلب نفسه.

## حسابك في البوابة

يصلك مع طلبك الأول رابط دعوة لإنشاء حسابك. بعد تعيين كلمة المرور، اختر **تسجيل الدخول**
(في أعلى البوابة) لعرض طلباتك ومتابعتها، وكذلك جميع طلبات مؤسستك إن سمحت مؤسستك بذلك.

## أوقات الاستجابة

تحدد الأولوية التي تختارها أقصى مدة قبل أن يرد عليك مهندس:

TABLE

## لست راضيًا عن سير الطلب؟

يمكنك تصعيد الطلب في أي وقت: راجع [تصعيد طلب](/kb/articles/escalate-a-ticket/?lang=ar)،
أو اتصل بفريق الدعم واذكر رقم الطلب. ينقل كل تصعيد الطلب إلى المستوى التالي في مصفوفة
التصعيد، ويُكلَّف المهندسون المناسبون بمتابعته حتى الحل.
""".replace("TABLE", table(TIMES_AR))

ESCALATE_EN = """\
If a case is not progressing as you expect, or its answer does not solve the problem, you
can escalate it at any time.

## What you need

Your **Case ID**: the number we emailed you when you submitted the case (numbers only,
for example `100123`).

## From the portal

1. On the portal's home page, find **Escalate a Ticket**.
2. Enter the Case ID and tell us briefly why you escalate.
3. Signed in, the case is escalated at once. Otherwise we email the case's contacts a link
   to confirm, so that nobody can escalate your case in your name.

## By phone

Call our support team, around the clock, and quote your Case ID. The engineer escalates
the case for you while you are on the line.

## What happens next

The case moves one level up our escalation matrix: the team of that level is notified and
assigned, and you receive an email saying so. See
[our support and escalation process](/kb/articles/support-and-escalation-process/) for
the response times.
"""

ESCALATE_AR = """\
إذا لم يتقدم طلبك كما تتوقع، أو لم يحل الرد مشكلتك، فيمكنك تصعيده في أي وقت.

## ما تحتاجه

**رقم الطلب**: الرقم الذي أرسلناه إليك بالبريد الإلكتروني عند إرسال الطلب (أرقام فقط،
مثل `100123`).

## من البوابة

1. في الصفحة الرئيسية للبوابة، ابحث عن **تصعيد طلب**.
2. أدخل رقم الطلب واذكر سبب التصعيد باختصار.
3. إذا كنت مسجّل الدخول يُصعَّد الطلب فورًا، وإلا نرسل إلى جهات الاتصال الخاصة بالطلب رابطًا
   للتأكيد، حتى لا يتمكن أحد من تصعيد طلبك باسمك.

## بالهاتف

اتصل بفريق الدعم في أي وقت واذكر رقم الطلب، وسيصعّد المهندس الطلب أثناء المكالمة.

## ماذا يحدث بعد ذلك

ينتقل الطلب مستوى واحدًا إلى الأعلى في مصفوفة التصعيد: يُبلَّغ فريق ذلك المستوى ويُكلَّف
بالطلب، وتصلك رسالة بريد إلكتروني بذلك. راجع
[آلية الدعم والتصعيد](/kb/articles/support-and-escalation-process/?lang=ar) لمعرفة أوقات الاستجابة.
"""

POLICY_EN = """\
Every case has a **category** (what it is about) and a **priority** (how much the service
is affected). Both help us assign the right engineers quickly.

## Categories

- **Service outage**: the service is down or unreachable for your subscribers.
- **Filtering and blocking**: sites blocked or allowed wrongly, categories, safe search.
- **Accounts and profiles**: subscriber accounts, profiles, parental settings.
- **Integration and provisioning**: APIs, RADIUS, DNS, provisioning of your network.
- **Reports and analytics**: reports, dashboards and exported data.
- **Billing and licensing**: invoices, licences and subscriber counts.
- **General question**: anything else.

## Choosing a priority

- **High (Critical)**: critical functions cannot be used, often or for a long time.
- **Medium (Major)**: non-critical functions fail consistently or critical ones
  occasionally, or a critical issue has a temporary workaround.
- **Low (Minor)**: some impact on administration or secondary functions, or a major issue
  has a temporary workaround.
- **Question (Request)**: the service is unaffected; you need advice or information.

## Our policy

- The response time of your plan counts from the moment the case is submitted. While we
  wait for your answer, the case is *pending* and the clock pauses.
- An engineer may change the priority to match the impact described, and tells you why.
- A resolved case reopens when you reply within a few days; after that, your reply opens
  a new case linked to the old one.
"""

POLICY_AR = """\
لكل طلب **فئة** (موضوعه) و**أولوية** (مدى تأثر الخدمة)، وتساعدنا كلتاهما على تكليف
المهندسين المناسبين بسرعة.

## الفئات

- **انقطاع الخدمة**: الخدمة متوقفة أو لا يمكن لمشتركيك الوصول إليها.
- **التصفية والحجب**: مواقع محجوبة أو مسموح بها خطأً، والتصنيفات، والبحث الآمن.
- **الحسابات والملفات الشخصية**: حسابات المشتركين وملفاتهم وإعدادات الرقابة الأبوية.
- **التكامل والتهيئة**: واجهات البرمجة وRADIUS وDNS وتهيئة شبكتك.
- **التقارير والتحليلات**: التقارير ولوحات المتابعة والبيانات المصدّرة.
- **الفوترة والتراخيص**: الفواتير والتراخيص وأعداد المشتركين.
- **سؤال عام**: أي موضوع آخر.

## اختيار الأولوية

- **عالية (حرجة)**: تعذّر استخدام الوظائف الحرجة بشكل متكرر أو لمدة طويلة.
- **متوسطة (كبيرة)**: تعطّل الوظائف غير الحرجة باستمرار أو الحرجة أحيانًا، أو مشكلة حرجة
  لها حل مؤقت.
- **منخفضة (بسيطة)**: أثر على الإدارة أو الوظائف الثانوية، أو مشكلة كبيرة لها حل مؤقت.
- **استفسار (طلب)**: الخدمة لا تتأثر، وتحتاج إلى نصيحة أو معلومات.

## سياستنا

- يُحتسب وقت الاستجابة في باقتك من لحظة إرسال الطلب. وأثناء انتظار ردك يكون الطلب
  *بانتظار العميل* ويتوقف احتساب الوقت.
- قد يغيّر المهندس الأولوية لتتناسب مع الأثر الموصوف، ويوضح لك السبب.
- يُعاد فتح الطلب المحلول إذا رددت عليه خلال أيام قليلة، وبعد ذلك يفتح ردك طلبًا جديدًا
  مرتبطًا بالطلب السابق.
"""

ARTICLES = [
    ("support-and-escalation-process", "process",
     ("Our support and escalation process", PROCESS_EN),
     ("آلية الدعم والتصعيد لدينا", PROCESS_AR)),
    ("escalate-a-ticket", "process",
     ("Escalate a Ticket", ESCALATE_EN), ("تصعيد طلب", ESCALATE_AR)),
    ("categories-and-policy", "policy",
     ("Categories & Policy", POLICY_EN), ("الفئات والسياسة", POLICY_AR)),
]


def publish_demo_articles(author: User | None = None) -> int:
    """Publish the demo's articles that are not there yet; returns how many."""
    title, titles = CATEGORY
    category, _created = Category.objects.get_or_create(title=title, defaults={"titles": titles})
    sections = {}
    for position, (key, (section_title, section_titles)) in enumerate(SECTIONS.items()):
        sections[key], _created = Section.objects.get_or_create(
            category=category, title=section_title,
            defaults={"titles": section_titles, "position": position},
        )
    made = 0
    for slug, section, (en_title, en_body), (ar_title, ar_body) in ARTICLES:
        if Article.objects.filter(slug=slug).exists():
            continue
        save_article(
            by=author, section=sections[section], slug=slug, status=Article.Status.PUBLISHED,
            texts=[Text("en", en_title, en_body), Text("ar", ar_title, ar_body)],
        )
        made += 1
    return made
