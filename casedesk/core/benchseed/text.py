"""The generated text of bench-seed: words, names, and pools of subjects and messages in
English and Arabic (with the spelling variants people really type)."""

from __future__ import annotations

import random

AGENT_PASSWORD = "bench-agent-password-2024"  # noqa: S105 - a throwaway benchmark account
AGENT_EMAIL = "agent1@support.bench.example"
RARE_WORD = "zirconium"
COMMON_WORD = "subscribers"
ARABIC_WORD = "المشتركين"
DETAIL_MESSAGES = 50
BATCH = 20_000
YEAR = 365 * 86400

# ------------------------------------------------------------------ English text

PRODUCTS = ["DNS filter", "safe search", "parental profiles", "RADIUS feed", "block page",
            "reports dashboard", "subscriber API", "category database", "licence portal",
            "provisioning script", "allow-list", "mobile app", "router agent", "SSO login",
            "billing export", "captive portal", "DHCP relay", "threat feed"]
PROBLEMS = ["returns errors for", "is slow for", "ignores the settings of",
            "shows the wrong data for", "stopped working for", "times out for",
            "blocks allowed sites for", "lost the configuration of", "crashes for",
            "sends duplicate alerts to"]
WHO = ["some subscribers", "all business subscribers", "one test account", "our NOC team",
       "the Cairo cluster", "new subscribers", "subscribers on fibre", "a reseller",
       "the Riyadh office", "prepaid subscribers", "the hospital network", "our call centre"]
DETAILS = ["It started after the maintenance window last night.",
           "We see HTTP 502 in the logs about once a minute.",
           "Restarting the service did not help.",
           "The problem is intermittent and hard to reproduce.",
           "Our monitoring shows latency above 3 seconds.",
           "Only subscribers with a custom profile are affected.",
           "We attached the output of the diagnostics tool.",
           "Please treat this as urgent: the regulator audits us this week.",
           "Nothing changed on our side since the last release.",
           "About 300 subscribers called our hotline this morning.",
           "The error appears in Chrome and in Safari alike.",
           "Our engineer can join a call any time after 14:00 GST."]
REPLIES = ["Thank you, we are looking into it and will update you within the hour.",
           "We found a configuration mismatch on our side and corrected it. Please check.",
           "Could you send us the subscriber IDs and a timestamp of one failure?",
           "A fix has been deployed to your cluster. Can you confirm it works now?",
           "We escalated this to our engineering team; the next update follows today.",
           "The logs show the resolver pool was saturated; we added capacity.",
           "We could not reproduce this yet. Does it still happen?"]
CUSTOMER = ["Still happening for a third of our subscribers.",
            "Thanks, that fixed it for most users; two still report the problem.",
            "Here are the IDs you asked for: 55102, 55187 and 56020.",
            "Confirmed, it works now. You can close the case.",
            "Any update? Our customers keep calling.",
            "We tried that, same error."]
NOTES = ["Same pattern as the incident last month; checked the resolver pool.",
         "Customer on Premium: keep the first-response clock in mind.",
         "Asked engineering to look at the cache eviction logs.",
         "Reproduced on staging with the customer's profile export.",
         "Waiting for the vendor's answer on the licence key."]
LOG_LINES = ["2024-05-12T08:14:03Z resolver[2231]: upstream timeout after 3000 ms",
             "2024-05-12T08:14:04Z filterd[118]: policy reload failed: profile 8812",
             "2024-05-12T08:14:09Z radius-feed[77]: accounting stop without start",
             "2024-05-12T08:15:40Z blockpage[402]: 502 from backend pool b2"]
FIRST = ["Amira", "Omar", "Layla", "Youssef", "Nour", "Karim", "Sara", "Hassan", "Mona",
         "Tariq", "Dina", "Ali", "Rania", "Samir", "Hana", "Fares", "Lina", "Ziad", "James",
         "Emma", "Priya", "Chen"]
LAST = ["Haddad", "Mansour", "Khalil", "Nasser", "Saleh", "Farouk", "Aziz", "Rahman",
        "Jaber", "Kassem", "Darwish", "Qasim", "Walker", "Moreau", "Sharma"]
ORG_WORDS = ["Nile", "Atlas", "Gulf", "Levant", "Sahara", "Oasis", "Falcon", "Cedar",
             "Delta", "Horizon", "Crescent", "Pearl", "Medina", "Corniche", "Zagros"]
ORG_KINDS = ["Telecom", "Networks", "Broadband", "Mobile", "Fibre", "Online", "Data",
             "Connect", "Net"]
ZONES = ["Asia/Dubai", "Africa/Cairo", "Asia/Riyadh", "Asia/Amman", "Africa/Casablanca",
         "Asia/Qatar", "Europe/London", "UTC"]

# ------------------------------------------------------------------ Arabic text
# Written in the standard spelling; `arabic_variant` then types them the ways people do.

AR_SUBJECTS = ["مشكلة في تسجيل الدخول إلى بوابة العملاء",
               "انقطاع خدمة الإنترنت لدى بعض المشتركين",
               "بطء شديد في لوحة التقارير",
               "خطأ عند إنشاء مستخدم جديد",
               "فلتر المحتوى يحجب مواقع مسموح بها",
               "طلب تجديد الترخيص السنوي",
               "الفاتورة الأخيرة تحتوي على مبلغ خاطئ",
               "تطبيق الهاتف لا يعرض الإشعارات",
               "استفسار عن إعدادات البحث الآمن",
               "فشل المزامنة مع خادم المصادقة",
               "المستشفى لا يستطيع الوصول إلى الشبكة",
               "إضافة نطاق جديد إلى القائمة المسموح بها"]
AR_SENTENCES = ["نواجه هذه المشكلة منذ صباح أمس بعد أعمال الصيانة.",
                "جربنا إعادة تشغيل الخادم لكن المشكلة ما زالت قائمة.",
                "يظهر للمستخدمين خطأ 502 عند فتح الصفحة الرئيسية.",
                "المشكلة تؤثر على أكثر من مئة من المشتركين في القاهرة والإسكندرية.",
                "أرفقنا لقطة شاشة توضح رسالة الخطأ.",
                "نرجو إفادتنا بموعد الحل المتوقع لأن الجهة الرقابية ستراجع الخدمة هذا الأسبوع.",
                "لم نغير أي إعدادات على الشبكة خلال الفترة الأخيرة.",
                "هل يمكن رفع أولوية الطلب إلى عاجلة؟",
                "تم تفعيل الحساب ولكن كلمة المرور لا تعمل.",
                "نلاحظ تأخيرا في الاستجابة يصل إلى ثلاث ثوان.",
                "يرجى التواصل مع مدير الشبكة على الرقم المرفق.",
                "المستشفى الجامعي يعتمد على هذه الخدمة على مدار الساعة.",
                "قامت الإدارة بتحديث قائمة المواقع المسموح بها.",
                "المشتركين في الباقة المنزلية لا يستطيعون فتح البريد الإلكتروني."]
AR_REPLIES = ["شكرا لتواصلكم، نعمل على فحص المشكلة وسنوافيكم بالتحديث خلال ساعة.",
              "وجدنا خطأ في الإعدادات من جهتنا وتم تصحيحه، يرجى التأكد.",
              "هل يمكنكم إرسال أرقام المشتركين المتأثرين ووقت حدوث المشكلة؟",
              "تم نشر إصلاح على الخادم الخاص بكم، هل تعمل الخدمة الآن؟",
              "تم تصعيد الحالة إلى فريق الهندسة وسنعود إليكم اليوم."]
AR_CUSTOMER = ["المشكلة ما زالت موجودة لدى ثلث المشتركين.",
               "شكرا، تم حل المشكلة ويمكنكم إغلاق الطلب.",
               "هل من جديد؟ العملاء يتصلون بنا باستمرار.",
               "جربنا ذلك وظهر نفس الخطأ."]
AR_NOTES = ["نفس نمط الحادثة السابقة، تم فحص مجموعة الخوادم.",
            "العميل على الباقة المميزة، انتبه لموعد الرد الأول.",
            "طلبنا من فريق الهندسة مراجعة سجلات الذاكرة المؤقتة."]
AR_FIRST = ["أحمد", "محمد", "فاطمة", "عائشة", "يوسف", "مريم", "خالد", "ليلى", "عمر", "نور",
            "إبراهيم", "آمنة", "سلمى", "هدى"]
AR_LAST = ["الحداد", "المنصور", "خليل", "الناصر", "صالح", "عبد الرحمن", "الأحمد", "القاسم"]

DIACRITICS = "\u064e\u064f\u0650\u0652\u0651"  # fatha, damma, kasra, sukun, shadda
TATWEEL = "\u0640"


def arabic_variant(text: str, rng: random.Random) -> str:
    """The text as people type it: bare alef for hamza forms, ha for taa marbuta, ya and
    alef maqsura swapped, some diacritics, a stretched word. Search must see through it."""
    words = text.split(" ")
    bare_alef = rng.random() < 0.5
    out = []
    for word in words:
        if bare_alef:
            word = word.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
        if word.endswith("ة") and rng.random() < 0.3:
            word = word[:-1] + "ه"
        elif word.endswith("ى") and rng.random() < 0.3:
            word = word[:-1] + "ي"
        elif word.endswith("ي") and rng.random() < 0.1:
            word = word[:-1] + "ى"
        if len(word) > 3 and rng.random() < 0.08:
            chars = list(word)
            for i in range(len(chars) - 1, 0, -1):
                if rng.random() < 0.5:
                    chars.insert(i, rng.choice(DIACRITICS))
            word = "".join(chars)
        elif len(word) > 3 and rng.random() < 0.03:
            middle = len(word) // 2
            word = word[:middle] + TATWEEL * rng.randint(1, 3) + word[middle:]
        out.append(word)
    return " ".join(out)


class Pools:
    """Pre-built texts: the per-row loop only picks from lists."""

    def __init__(self, rng: random.Random) -> None:
        self.en_subjects = [
            f"{rng.choice(PRODUCTS).capitalize()} {rng.choice(PROBLEMS)} {rng.choice(WHO)}"
            for _ in range(4000)
        ]
        self.ar_subjects = [arabic_variant(rng.choice(AR_SUBJECTS), rng) for _ in range(1500)]
        self.en_descriptions = [self._en_description(rng) for _ in range(6000)]
        self.ar_descriptions = [
            arabic_variant(" ".join(rng.sample(AR_SENTENCES, rng.randint(2, 4))), rng)
            for _ in range(3000)
        ]
        self.en_long = [self._en_long(rng) for _ in range(400)]
        self.ar_long = [
            "\n\n".join(arabic_variant(" ".join(rng.sample(AR_SENTENCES, 6)), rng)
                        for _ in range(rng.randint(4, 8)))
            for _ in range(200)
        ]
        self.en_replies = [self._en_pick(rng, REPLIES, 1, 2) for _ in range(600)]
        self.ar_replies = [arabic_variant(rng.choice(AR_REPLIES), rng) for _ in range(400)]
        self.en_customer = [self._en_pick(rng, CUSTOMER, 1, 2) for _ in range(400)]
        self.ar_customer = [arabic_variant(rng.choice(AR_CUSTOMER), rng) for _ in range(300)]
        self.en_notes = NOTES
        self.ar_notes = [arabic_variant(rng.choice(AR_NOTES), rng) for _ in range(100)]

    @staticmethod
    def _en_pick(rng: random.Random, pool: list[str], low: int, high: int) -> str:
        return " ".join(rng.sample(pool, rng.randint(low, high)))

    @staticmethod
    def _en_description(rng: random.Random) -> str:
        return "\n\n".join(
            f"The {rng.choice(PRODUCTS)} {rng.choice(PROBLEMS)} {rng.choice(WHO)}. "
            + " ".join(rng.sample(DETAILS, 2))
            for _ in range(rng.randint(1, 3))
        )

    @staticmethod
    def _en_long(rng: random.Random) -> str:
        parts = [Pools._en_description(rng) for _ in range(rng.randint(3, 6))]
        parts.append("Log excerpt:\n" + "\n".join(rng.choice(LOG_LINES) for _ in range(12)))
        return "\n\n".join(parts)
