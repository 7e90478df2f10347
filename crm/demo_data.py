"""The demo company: its people, pipelines, lead sources, customers and the words its reps write.

Plain data for ``manage.py seed_demo``; fictional companies on the reserved ``.example`` domain.
"""

import datetime
import re
import struct
import zlib

from sources.models import LeadSource
from stages.models import Stage

SEED = 20260415
OPPORTUNITY_COUNT = 300
TEAM_NAME = "外贸一部"
MAIN_PIPELINE = "外贸标准流程"
QUICK_PIPELINE = "配件快单"

# username, full name, superuser; printed in this order.
LOGIN_USERS = [
    ("admin", "陈静", True),
    ("manager", "王强", False),
    ("rep1", "李娜", False),
    ("rep2", "张伟", False),
    ("rep3", "刘洋", False),
]
# A rep who left during the demo period: deactivated through user_deactivate, deals handed to rep3.
FORMER_REP = ("rep4", "赵磊")
LEAVING_DAYS_AGO = 40

MAIN_STAGES = [
    {
        "name": "取得销售机会",
        "probability": 10,
        "rotting_days": 7,
        "guidance": "登记客户、联系人和来源；3 天内完成首次联系。",
    },
    {
        "name": "初次接触",
        "probability": 20,
        "rotting_days": 10,
        "guidance": "通过邮件、WhatsApp 或电话联系，发送公司介绍和产品目录。",
    },
    {
        "name": "客户需求收集",
        "probability": 30,
        "rotting_days": 14,
        "guidance": "确认规格、数量、目标价、认证要求（CE/E-mark/DOT）和交期。",
    },
    {
        "name": "客户考察",
        "probability": 40,
        "rotting_days": 21,
        "guidance": "安排客户来访或视频看厂，记录拜访纪要和客户关注点。",
    },
    {
        "name": "提供样品",
        "probability": 50,
        "rotting_days": 21,
        "requires_attachment": True,
        "requires_tracking_number": True,
        "guidance": "寄样前拍照上传，并填写快递公司和单号；离开本阶段前必须具备照片和单号。",
    },
    {
        "name": "报价",
        "probability": 70,
        "rotting_days": 14,
        "required_fields": ["amount"],
        "guidance": "发送正式报价单（PI），在机会上填写金额和币种。",
    },
    {
        "name": "客户验厂",
        "probability": 90,
        "rotting_days": 30,
        "guidance": "配合客户或第三方验厂（BSCI / ISO 9001 / IATF 16949），整改项记录在活动里。",
    },
    {"name": "赢单", "probability": 100, "kind": Stage.Kind.WON, "guidance": "签订合同或收到定金。"},
    {"name": "输单", "probability": 0, "kind": Stage.Kind.LOST, "guidance": "记录输单原因，便于复盘。"},
]
QUICK_STAGES = [
    {"name": "询价", "probability": 20, "rotting_days": 3, "guidance": "24 小时内回复询价。"},
    {
        "name": "报价",
        "probability": 60,
        "rotting_days": 5,
        "required_fields": ["amount"],
        "guidance": "报价并填写金额。",
    },
    {"name": "下单确认", "probability": 90, "rotting_days": 7, "guidance": "确认 PI、付款方式和交期。"},
    {"name": "赢单", "probability": 100, "kind": Stage.Kind.WON},
    {"name": "输单", "probability": 0, "kind": Stage.Kind.LOST},
]

# name, channel, start, end, money, person-days, day rate, share of the leads
SOURCES = [
    (
        "2026春季广交会",
        LeadSource.Channel.TRADE_SHOW,
        datetime.date(2026, 4, 15),
        datetime.date(2026, 4, 19),
        "86000.00",
        "24.0",
        "800.00",
        0.30,
    ),
    (
        "上海产品博览会",
        LeadSource.Channel.TRADE_SHOW,
        datetime.date(2026, 3, 10),
        datetime.date(2026, 3, 12),
        "32000.00",
        "9.0",
        "800.00",
        0.14,
    ),
    (
        "阿里巴巴国际站",
        LeadSource.Channel.ONLINE_PLATFORM,
        datetime.date(2026, 1, 1),
        datetime.date(2026, 12, 31),
        "59800.00",
        "120.0",
        "600.00",
        0.30,
    ),
    (
        "Automechanika Frankfurt 2026",
        LeadSource.Channel.TRADE_SHOW,
        datetime.date(2026, 9, 8),
        datetime.date(2026, 9, 12),
        "168000.00",
        "30.0",
        "1200.00",
        0.12,
    ),
    ("老客户转介绍", LeadSource.Channel.REFERRAL, None, None, "0.00", "3.0", "600.00", 0.14),
]
LOST_REASONS = ["价格太高", "选择了竞争对手", "需求取消", "联系不上", "交期太长"]
# 1 unit = rate CNY, valid from
RATES = [
    ("USD", "7.100000", datetime.date(2026, 1, 1)),
    ("EUR", "7.750000", datetime.date(2026, 1, 1)),
    ("GBP", "9.050000", datetime.date(2026, 1, 1)),
    ("USD", "7.150000", datetime.date(2026, 7, 1)),
    ("EUR", "8.300000", datetime.date(2026, 7, 1)),
    ("GBP", "9.600000", datetime.date(2026, 7, 1)),
]
CURRENCIES = [("USD", 0.58), ("EUR", 0.2), ("GBP", 0.08), ("CNY", 0.14)]

# country, phone prefix, industry, companies, contact names
CUSTOMER_COUNTRIES = [
    (
        "Germany",
        "+49",
        "汽配批发",
        ["Müller Autoteile GmbH", "Nordwerk Ersatzteile GmbH", "Hansa Kfz-Teile GmbH", "Berger Fahrzeugtechnik GmbH"],
        [("Jonas", "Weber"), ("Anna", "Schmidt"), ("Lukas", "Fischer"), ("Marie", "Wagner")],
    ),
    (
        "United States",
        "+1",
        "汽配连锁",
        [
            "Lone Star Auto Supply Inc.",
            "Great Lakes Parts Co.",
            "Pacific Coast Automotive LLC",
            "Liberty Brake & Clutch Inc.",
        ],
        [("Michael", "Johnson"), ("Emily", "Davis"), ("Chris", "Miller"), ("Sarah", "Brown")],
    ),
    (
        "United Kingdom",
        "+44",
        "售后零售",
        ["Thames Motor Factors Ltd", "Pennine Auto Spares Ltd", "Highland Vehicle Parts Ltd"],
        [("Oliver", "Smith"), ("Amelia", "Taylor"), ("Harry", "Evans")],
    ),
    (
        "France",
        "+33",
        "汽配批发",
        ["Garage Lumière SARL", "Pièces Auto Bordeaux SAS", "Rhône Équipement SAS"],
        [("Camille", "Martin"), ("Louis", "Bernard"), ("Chloé", "Dubois")],
    ),
    (
        "Italy",
        "+39",
        "改装件",
        ["Ricambi Veloce S.r.l.", "Autoricambi Adriatico S.p.A."],
        [("Giulia", "Rossi"), ("Marco", "Bianchi")],
    ),
    (
        "Spain",
        "+34",
        "汽配批发",
        ["Recambios Iberia S.L.", "Autopartes del Sol S.A."],
        [("Lucía", "García"), ("Javier", "Martínez")],
    ),
    (
        "Poland",
        "+48",
        "物流车队",
        ["Wisła Części Sp. z o.o.", "Kraków Motoserwis Sp. z o.o."],
        [("Piotr", "Nowak"), ("Katarzyna", "Kowalska")],
    ),
    (
        "Netherlands",
        "+31",
        "进口商",
        ["Delta Auto Import B.V.", "Oranje Onderdelen B.V."],
        [("Daan", "de Vries"), ("Sanne", "Jansen")],
    ),
    (
        "Russia",
        "+7",
        "汽配批发",
        ["Volga Avtodetal LLC", "Sibir Motors Trading LLC", "Neva Parts Group LLC"],
        [("Dmitry", "Ivanov"), ("Olga", "Smirnova"), ("Sergey", "Popov")],
    ),
    (
        "Turkey",
        "+90",
        "汽配批发",
        ["Anadolu Oto Yedek Parça A.Ş.", "Bosphorus Auto Parts Ltd. Şti."],
        [("Mehmet", "Yılmaz"), ("Ayşe", "Kaya")],
    ),
    (
        "United Arab Emirates",
        "+971",
        "转口贸易",
        ["Gulf Star Auto Spare Parts LLC", "Desert Falcon Trading FZE", "Al Noor Vehicle Parts LLC"],
        [("Ahmed", "Al Mansoori"), ("Fatima", "Hassan"), ("Omar", "Khalid")],
    ),
    (
        "Saudi Arabia",
        "+966",
        "汽配连锁",
        ["Riyadh Motors Supply Co.", "Red Sea Auto Parts Co."],
        [("Abdullah", "Al Harbi"), ("Noura", "Al Qahtani")],
    ),
    (
        "Mexico",
        "+52",
        "汽配批发",
        ["Refacciones Azteca S.A. de C.V.", "Autopartes Monterrey S.A. de C.V."],
        [("Alejandro", "Hernández"), ("Sofía", "López")],
    ),
    (
        "Brazil",
        "+55",
        "进口商",
        ["Peças Rápidas Importadora Ltda.", "Auto Sul Distribuidora Ltda.", "Paulista Autopeças Ltda."],
        [("João", "Silva"), ("Ana", "Souza"), ("Pedro", "Oliveira")],
    ),
    ("Chile", "+56", "矿用车队", ["Andes Repuestos SpA"], [("Matías", "González")]),
    (
        "India",
        "+91",
        "改装件",
        ["Sai Auto Components Pvt. Ltd.", "Mumbai Motor Parts Pvt. Ltd."],
        [("Rahul", "Sharma"), ("Priya", "Patel")],
    ),
    (
        "Vietnam",
        "+84",
        "摩托车配件",
        ["Saigon Auto Parts JSC", "Hanoi Phụ Tùng Co., Ltd."],
        [("Nguyen", "Van An"), ("Tran", "Thi Mai")],
    ),
    (
        "Thailand",
        "+66",
        "皮卡改装",
        ["Siam 4x4 Accessories Co., Ltd.", "Bangkok Auto Trade Co., Ltd."],
        [("Somchai", "Srisuk"), ("Nok", "Chaiyaporn")],
    ),
    (
        "Indonesia",
        "+62",
        "汽配批发",
        ["PT Jaya Motor Parts", "PT Nusantara Suku Cadang"],
        [("Budi", "Santoso"), ("Dewi", "Lestari")],
    ),
    (
        "Australia",
        "+61",
        "越野改装",
        ["Outback Offroad Gear Pty Ltd", "Southern Cross Auto Parts Pty Ltd"],
        [("Jack", "Wilson"), ("Chloe", "Thompson")],
    ),
    (
        "South Africa",
        "+27",
        "汽配批发",
        ["Cape Auto Spares (Pty) Ltd", "Jozi Motor Parts (Pty) Ltd"],
        [("Thabo", "Nkosi"), ("Lerato", "Mokoena")],
    ),
    (
        "Nigeria",
        "+234",
        "进口商",
        ["Lagos Motors Import Ltd", "Abuja Spare Parts Ltd"],
        [("Chinedu", "Okafor"), ("Ngozi", "Adeyemi")],
    ),
    ("Kenya", "+254", "物流车队", ["Nairobi Truck Parts Ltd"], [("Brian", "Otieno")]),
    (
        "Canada",
        "+1",
        "汽配连锁",
        ["Maple Leaf Auto Parts Inc.", "Prairie Truck Supply Ltd."],
        [("Liam", "Tremblay"), ("Emma", "Roy")],
    ),
    ("Poland", "+48", "汽配批发", ["Gdańsk Auto Hurt Sp. z o.o."], [("Tomasz", "Wiśniewski")]),
    (
        "Egypt",
        "+20",
        "汽配批发",
        ["Nile Motors Trading Co.", "Cairo Auto Parts Co."],
        [("Mostafa", "Ibrahim"), ("Mona", "Farouk")],
    ),
    ("Japan", "+81", "进口商", ["Sakura Motor Trading K.K."], [("Haruto", "Sato")]),
    ("South Korea", "+82", "改装件", ["Hanbit Auto Parts Co., Ltd."], [("Minjun", "Kim")]),
]

PRODUCTS = [
    ("刹车片", "套"),
    ("LED 大灯", "对"),
    ("雨刮器", "支"),
    ("机油滤清器", "个"),
    ("减震器", "支"),
    ("轮毂轴承", "套"),
    ("火花塞", "支"),
    ("散热器", "台"),
    ("空调压缩机", "台"),
    ("后视镜", "对"),
    ("刹车盘", "片"),
    ("点火线圈", "个"),
    ("水泵", "台"),
    ("离合器套件", "套"),
    ("燃油泵", "个"),
]
QUICK_PRODUCTS = [("轮胎气门嘴", "包"), ("保险丝套装", "盒"), ("车用充电器", "个"), ("雨刮胶条", "条"), ("灯泡", "盒")]
CARRIERS = [("DHL", "JD0146{:08d}"), ("FedEx", "7728{:08d}"), ("顺丰速运", "SF14{:010d}"), ("UPS", "1Z9W8{:010d}")]

# What a rep writes in each stage (kind, text). {product} and {contact} are filled in.
STAGE_NOTES = {
    "初次接触": [
        ("email", "发送公司介绍和{product}目录给 {contact}。"),
        ("call", "与 {contact} 电话沟通，确认采购负责人。"),
    ],
    "客户需求收集": [
        ("email", "客户确认规格和年用量，要求 E-mark 认证。"),
        ("meeting", "视频会议：确认包装、唛头和交期。"),
    ],
    "客户考察": [("visit", "{contact} 来厂参观生产线和检测室。"), ("meeting", "视频看厂，客户关注产能和品控流程。")],
    "报价": [("quote", "发送 PI，FOB 宁波，付款 30% 定金 70% 见提单副本。"), ("email", "客户还价 5%，申请特价中。")],
    "客户验厂": [("visit", "第三方验厂（BSCI）完成，两项轻微整改。"), ("note", "整改报告已提交，客户确认通过。")],
    "下单确认": [("email", "客户确认 PI，等待定金。")],
}


# The first note of a deal depends on where the lead came from.
FIRST_NOTES = {
    LeadSource.Channel.TRADE_SHOW: [
        ("note", "展会现场交换名片，客户对{product}感兴趣。"),
        ("note", "展位洽谈，客户索要样本和价格表。"),
    ],
    LeadSource.Channel.ONLINE_PLATFORM: [
        ("email", "平台询盘：{product}，客户要求报目录价。"),
        ("note", "回复平台询盘并发送目录。"),
    ],
    LeadSource.Channel.REFERRAL: [("call", "老客户介绍，{contact} 来电询问{product}。")],
}
_LEGAL_FORMS = re.compile(
    r"\s*(\(Pty\) Ltd|Pty Ltd|Sp\. z o\.o\.|S\.A\. de C\.V\.|Ltd\. Şti\.|Co\., Ltd\.|Pvt\. Ltd\.|GmbH|Inc\.|LLC|Ltd\.?"
    r"|Co\.|S\.A\.S?|SARL|SAS|S\.r\.l\.|S\.p\.A\.|S\.L\.|B\.V\.|A\.Ş\.|FZE|JSC|K\.K\.|SpA|Ltda\.)$"
)


def short_company(name: str) -> str:
    """ "Müller Autoteile GmbH" → "Müller Autoteile": titles read better without the legal form."""
    short = _LEGAL_FORMS.sub("", name).removeprefix("PT ").strip(" ,")
    return short or name


def tiny_png(rgb: tuple[int, int, int], size: int = 16) -> bytes:
    """A small valid PNG (a coloured square with a lighter diagonal), made without any image library."""
    light = tuple(min(255, channel + 80) for channel in rgb)
    rows = b"".join(b"\x00" + b"".join(bytes(light if x == y else rgb) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
