"""Demo data: departments, licence types, citizens with licences in every state, clerks, a department user."""
import datetime as dt

from django.utils import timezone
from guardian.shortcuts import assign_perm

from ledger.actor import ledger_action
from licenses import services
from licenses.blind_index import number_index
from licenses.models import Authorisation, Department, Licence, LicenceStatus, LicenceType, Share
from portal.demo import DEMO_PASSWORD, ensure_user
from portal.models import Role

DEPARTMENTS = {
    "transport": "市公安局交通管理支队",
    "market": "市市场监督管理局",
    "civil": "市民政局",
    "hrss": "市人力资源和社会保障局",
    "housing": "市住房保障中心",
}

# Code, name, name in English, department, fields (each label also in English: translatable data).
TYPES = [
    ("driving", "机动车驾驶证", "Driving licence", "transport", [
        {"name": "number", "personal": True},  # 驾驶证号即公民身份号码
        {"name": "vehicle_class", "label": "准驾车型", "label_en": "Vehicle class", "personal": False,
         "kind": "choice",
         "choices": ["A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "D", "E", "F", "M", "N", "P"]},
        {"name": "birth_date", "label": "出生日期", "label_en": "Date of birth", "personal": True, "kind": "date"},
    ]),
    ("business", "营业执照", "Business licence", "market", [
        {"name": "company_name", "label": "名称", "label_en": "Company name", "personal": False},
        {"name": "credit_code", "label": "统一社会信用代码", "label_en": "Unified social credit code",
         "personal": False},
        {"name": "scope", "label": "经营范围", "label_en": "Business scope", "personal": False},
    ]),
    ("marriage", "结婚证", "Marriage certificate", "civil", [
        {"name": "spouse_name", "label": "配偶姓名", "label_en": "Spouse's name", "personal": True},
        {"name": "spouse_id", "label": "配偶身份证号", "label_en": "Spouse's national ID number", "personal": True},
        {"name": "registered_on", "label": "登记日期", "label_en": "Date of registration", "personal": False,
         "kind": "date"},
    ]),
    ("qualification", "专业技术资格证书", "Professional qualification certificate", "hrss", [
        {"name": "title", "label": "资格名称", "label_en": "Qualification", "personal": False},
        {"name": "level", "label": "级别", "label_en": "Level", "personal": False, "kind": "choice",
         "choices": ["初级", "中级", "副高级", "正高级"]},
    ]),
]


def _types():
    departments = {code: Department.objects.get_or_create(code=code, defaults={"name": name})[0]
                   for code, name in DEPARTMENTS.items()}
    types = {}
    for code, name, name_en, department, fields in TYPES:
        licence_type = LicenceType.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "department": departments[department],
                                 "fields": fields})[0]
        if not licence_type.name_en:  # a demo database loaded before the English names
            licence_type.name_en, licence_type.fields = name_en, fields
            licence_type.save()
        types[code] = licence_type
    return departments, types


def _licence(types, holder, code, number, person, values, *, start, end, status=LicenceStatus.VALID):
    licence = Licence.objects.filter(licence_type=types[code], number_index=number_index(number)).first()
    if licence is not None:
        return licence
    name, national_id, address = person
    licence = services.licence_issue(
        licence_type=types[code], holder=holder, number=number, holder_name=name, national_id=national_id,
        address=address, values=values, valid_from=start, valid_until=end, reason="示例数据",
    )
    if status == LicenceStatus.SUSPENDED:
        services.licence_suspend(licence=licence, reason="未处理的交通违法记录")
    elif status == LicenceStatus.REVOKED:
        services.licence_revoke(licence=licence, reason="资格被依法撤销")
    elif status == LicenceStatus.EXPIRED:
        services.licence_expire_due()
    return licence


def load(stdout) -> list[tuple[str, str, str]]:
    with ledger_action("demo.load"):
        departments, types = _types()
    today = timezone.localdate()
    days = dt.timedelta
    wang = ensure_user("wangfang", role=Role.CITIZEN, first_name="芳", last_name="王")
    li = ensure_user("liqiang", role=Role.CITIZEN, first_name="强", last_name="李")
    clerk_t = ensure_user("clerk-transport", role=Role.CLERK, office="transport")
    clerk_m = ensure_user("clerk-market", role=Role.CLERK, office="market")
    dept = ensure_user("dept-housing", role=Role.DEPARTMENT, office="housing")
    assign_perm("licenses.manage_licences", clerk_t, departments["transport"])
    assign_perm("licenses.manage_licences", clerk_m, departments["market"])

    wang_person = ("王芳", "110105198806154324", "北京市朝阳区建国路88号")
    li_person = ("李强", "440106197911023818", "广州市天河区体育东路12号")
    driving = _licence(types, wang, "driving", "110105198806154324", wang_person,
                       {"vehicle_class": "C1", "birth_date": "1988-06-15"},
                       start=today - days(2000), end=today + days(1650))
    _licence(types, wang, "business", "91110105MA01ABCD2X", wang_person,
             {"company_name": "北京芳华文化传播有限公司", "credit_code": "91110105MA01ABCD2X", "scope": "文化艺术交流"},
             start=today - days(1800), end=today + days(20))
    _licence(types, wang, "marriage", "J110105-2016-004521", wang_person,
             {"spouse_name": "陈志远", "spouse_id": "110105198603021230", "registered_on": "2016-10-01"},
             start=today - days(3300), end=today + days(36500))
    _licence(types, li, "driving", "440106197911023818", li_person,
             {"vehicle_class": "A2", "birth_date": "1979-11-02"},
             start=today - days(3000), end=today + days(600), status=LicenceStatus.SUSPENDED)
    _licence(types, li, "qualification", "HRSS-2012-778812", li_person,
             {"title": "建筑工程师", "level": "中级"}, start=today - days(4000), end=today - days(30),
             status=LicenceStatus.EXPIRED)
    _licence(types, li, "business", "91440106MA5CXYZ01K", li_person,
             {"company_name": "广州强盛贸易有限公司", "credit_code": "91440106MA5CXYZ01K", "scope": "日用品批发"},
             start=today - days(900), end=today + days(900), status=LicenceStatus.REVOKED)

    if not Share.objects.filter(licence=driving).exists():
        services.share_create(licence=driving, fields=["vehicle_class", "holder_name"],
                              expires_at=timezone.now() + days(30), purpose="租车", max_views=10)
    if not Authorisation.objects.filter(licence__holder=wang).exists():
        services.authorisation_request(requested_by=dept, licence_type=types["marriage"],
                                       national_id=wang_person[1], fields=["holder_name", "registered_on"],
                                       purpose="公租房资格审核", ends_at=timezone.now() + days(60))
    stdout.write("  licences: 6 licences for wangfang and liqiang, one share, one pending authorisation\n")
    return [
        ("wangfang", DEMO_PASSWORD, "citizen (3 valid licences, one expiring soon)"),
        ("liqiang", DEMO_PASSWORD, "citizen (suspended, expired, revoked licences)"),
        ("clerk-transport", DEMO_PASSWORD, "clerk, transport department"),
        ("clerk-market", DEMO_PASSWORD, "clerk, market regulation"),
        ("dept-housing", DEMO_PASSWORD, "department user, housing (/department/ and the API)"),
    ]
