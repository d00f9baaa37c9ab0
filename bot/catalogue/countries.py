"""SMS-Activate's country table: the provider's own ids, with ISO codes and calling codes.

Ids, Russian names and the ``getCountries`` flags follow the provider's published table (the
snapshot in the public ``optinsoft/asmsactivate`` repository, ``all_countries.json``). English
names are tidied for display (the provider writes "Southafrica", "DCongo", ...); ISO 3166-1
alpha-2 and calling codes were added by hand. Ids are sparse and stable: 12 is the legacy
"USA (virtual)" and 187 the physical USA; 16 is the United Kingdom.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.catalogue.services import fold

__all__ = ["COUNTRIES", "Country", "country", "country_name", "pick_countries", "search_countries"]

_REGIONAL_A = 0x1F1E6


@dataclass(frozen=True, slots=True)
class Country:
    id: int
    iso: str
    en: str
    ru: str
    dial: str = ""
    visible: bool = True
    retry: bool = False
    rent: bool = False
    multi_service: bool = False

    @property
    def flag(self) -> str:
        """The flag emoji, built from the ISO code; empty when the country has none."""
        if len(self.iso) != 2 or not self.iso.isalpha():
            return ""
        return "".join(chr(_REGIONAL_A + ord(letter) - ord("A")) for letter in self.iso.upper())

    def name(self, locale: str) -> str:
        return self.ru if locale.lower().startswith("ru") else self.en


# id, ISO, calling code, English, Russian, getCountries flags: V visible, R retry (another SMS),
# L rent (lease), M multiService.
_TABLE: tuple[tuple[int, str, str, str, str, str], ...] = (
    (0, "RU", "7", "Russia", "Россия", "VRLM"),
    (1, "UA", "380", "Ukraine", "Украина", "VRLM"),
    (2, "KZ", "7", "Kazakhstan", "Казахстан", "VRLM"),
    (3, "CN", "86", "China", "Китай", "V"),
    (4, "PH", "63", "Philippines", "Филиппины", "VRM"),
    (5, "MM", "95", "Myanmar", "Мьянма", "VR"),
    (6, "ID", "62", "Indonesia", "Индонезия", "VRLM"),
    (7, "MY", "60", "Malaysia", "Малайзия", "VRLM"),
    (8, "KE", "254", "Kenya", "Кения", "VRM"),
    (9, "TZ", "255", "Tanzania", "Танзания", "V"),
    (10, "VN", "84", "Vietnam", "Вьетнам", "VRM"),
    (11, "KG", "996", "Kyrgyzstan", "Кыргызстан", "VRM"),
    (12, "US", "1", "USA (virtual)", "США (виртуальные)", "VR"),
    (13, "IL", "972", "Israel", "Израиль", "VRM"),
    (14, "HK", "852", "Hong Kong", "Гонконг", "VRLM"),
    (15, "PL", "48", "Poland", "Польша", "VRLM"),
    (16, "GB", "44", "United Kingdom", "Великобритания", "VRLM"),
    (17, "MG", "261", "Madagascar", "Мадагаскар", "V"),
    (18, "CD", "243", "DR Congo", "Дем. Конго", "V"),
    (19, "NG", "234", "Nigeria", "Нигерия", "VR"),
    (20, "MO", "853", "Macao", "Макао", "V"),
    (21, "EG", "20", "Egypt", "Египет", "V"),
    (22, "IN", "91", "India", "Индия", "VRM"),
    (23, "IE", "353", "Ireland", "Ирландия", "VRLM"),
    (24, "KH", "855", "Cambodia", "Камбоджа", "VL"),
    (25, "LA", "856", "Laos", "Лаос", "VRM"),
    (26, "HT", "509", "Haiti", "Гаити", "V"),
    (27, "CI", "225", "Ivory Coast", "Кот д'Ивуар", "VR"),
    (28, "GM", "220", "Gambia", "Гамбия", "V"),
    (29, "RS", "381", "Serbia", "Сербия", "VRM"),
    (30, "YE", "967", "Yemen", "Йемен", "V"),
    (31, "ZA", "27", "South Africa", "ЮАР", "VR"),
    (32, "RO", "40", "Romania", "Румыния", "VRLM"),
    (33, "CO", "57", "Colombia", "Колумбия", "VRM"),
    (34, "EE", "372", "Estonia", "Эстония", "VRLM"),
    (35, "AZ", "994", "Azerbaijan", "Азербайджан", "V"),
    (36, "CA", "1", "Canada", "Канада", "VR"),
    (37, "MA", "212", "Morocco", "Марокко", "VR"),
    (38, "GH", "233", "Ghana", "Гана", "V"),
    (39, "AR", "54", "Argentina", "Аргентина", "VR"),
    (40, "UZ", "998", "Uzbekistan", "Узбекистан", "VRM"),
    (41, "CM", "237", "Cameroon", "Камерун", "V"),
    (42, "TD", "235", "Chad", "Чад", "V"),
    (43, "DE", "49", "Germany", "Германия", "VRLM"),
    (44, "LT", "370", "Lithuania", "Литва", "VRLM"),
    (45, "HR", "385", "Croatia", "Хорватия", "VRL"),
    (46, "SE", "46", "Sweden", "Швеция", "VRLM"),
    (47, "IQ", "964", "Iraq", "Ирак", "VR"),
    (48, "NL", "31", "Netherlands", "Нидерланды", "VRLM"),
    (49, "LV", "371", "Latvia", "Латвия", "VRLM"),
    (50, "AT", "43", "Austria", "Австрия", "VRL"),
    (51, "BY", "375", "Belarus", "Беларусь", "VRM"),
    (52, "TH", "66", "Thailand", "Таиланд", "VRLM"),
    (53, "SA", "966", "Saudi Arabia", "Сауд. Аравия", "V"),
    (54, "MX", "52", "Mexico", "Мексика", "VR"),
    (55, "TW", "886", "Taiwan", "Тайвань", "V"),
    (56, "ES", "34", "Spain", "Испания", "VRLM"),
    (57, "IR", "98", "Iran", "Иран", "VR"),
    (58, "DZ", "213", "Algeria", "Алжир", "V"),
    (59, "SI", "386", "Slovenia", "Словения", "VL"),
    (60, "BD", "880", "Bangladesh", "Бангладеш", "V"),
    (61, "SN", "221", "Senegal", "Сенегал", "V"),
    (62, "TR", "90", "Turkey", "Турция", "V"),
    (63, "CZ", "420", "Czech Republic", "Чехия", "VRLM"),
    (64, "LK", "94", "Sri Lanka", "Шри-Ланка", "V"),
    (65, "PE", "51", "Peru", "Перу", "V"),
    (66, "PK", "92", "Pakistan", "Пакистан", "V"),
    (67, "NZ", "64", "New Zealand", "Новая Зеландия", "VRM"),
    (68, "GN", "224", "Guinea", "Гвинея", "VR"),
    (69, "ML", "223", "Mali", "Мали", "V"),
    (70, "VE", "58", "Venezuela", "Венесуэла", "V"),
    (71, "ET", "251", "Ethiopia", "Эфиопия", "V"),
    (72, "MN", "976", "Mongolia", "Монголия", "V"),
    (73, "BR", "55", "Brazil", "Бразилия", "VRLM"),
    (74, "AF", "93", "Afghanistan", "Афганистан", "VR"),
    (75, "UG", "256", "Uganda", "Уганда", "V"),
    (76, "AO", "244", "Angola", "Ангола", "V"),
    (77, "CY", "357", "Cyprus", "Кипр", "VRL"),
    (78, "FR", "33", "France", "Франция", "VRLM"),
    (79, "PG", "675", "Papua New Guinea", "Папуа-Новая Гвинея", "V"),
    (80, "MZ", "258", "Mozambique", "Мозамбик", "V"),
    (81, "NP", "977", "Nepal", "Непал", "V"),
    (82, "BE", "32", "Belgium", "Бельгия", "V"),
    (83, "BG", "359", "Bulgaria", "Болгария", "VRLM"),
    (84, "HU", "36", "Hungary", "Венгрия", "V"),
    (85, "MD", "373", "Moldova", "Молдова", "VRLM"),
    (86, "IT", "39", "Italy", "Италия", "VRL"),
    (87, "PY", "595", "Paraguay", "Парагвай", "VR"),
    (88, "HN", "504", "Honduras", "Гондурас", "V"),
    (89, "TN", "216", "Tunisia", "Тунис", "V"),
    (90, "NI", "505", "Nicaragua", "Никарагуа", "V"),
    (91, "TL", "670", "Timor-Leste", "Тимор-Лесте", "V"),
    (92, "BO", "591", "Bolivia", "Боливия", "V"),
    (93, "CR", "506", "Costa Rica", "Коста Рика", "V"),
    (94, "GT", "502", "Guatemala", "Гватемала", "V"),
    (95, "AE", "971", "United Arab Emirates", "ОАЭ", "V"),
    (96, "ZW", "263", "Zimbabwe", "Зимбабве", "V"),
    (97, "PR", "1787", "Puerto Rico", "Пуэрто-Рико", "V"),
    (98, "SD", "249", "Sudan", "Судан", "V"),
    (99, "TG", "228", "Togo", "Того", "V"),
    (100, "KW", "965", "Kuwait", "Кувейт", "V"),
    (101, "SV", "503", "El Salvador", "Сальвадор", "V"),
    (102, "LY", "218", "Libya", "Ливия", "V"),
    (103, "JM", "1876", "Jamaica", "Ямайка", "V"),
    (104, "TT", "1868", "Trinidad and Tobago", "Тринидад и Тобаго", "V"),
    (105, "EC", "593", "Ecuador", "Эквадор", "V"),
    (106, "SZ", "268", "Eswatini", "Свазиленд", "V"),
    (107, "OM", "968", "Oman", "Оман", "V"),
    (108, "BA", "387", "Bosnia and Herzegovina", "Босния и Герцеговина", "V"),
    (109, "DO", "1809", "Dominican Republic", "Доминиканская Республика", "VRM"),
    (110, "SY", "963", "Syria", "Сирия", "V"),
    (111, "QA", "974", "Qatar", "Катар", "V"),
    (112, "PA", "507", "Panama", "Панама", "V"),
    (113, "CU", "53", "Cuba", "Куба", "V"),
    (114, "MR", "222", "Mauritania", "Мавритания", "V"),
    (115, "SL", "232", "Sierra Leone", "Сьерра-Леоне", "V"),
    (116, "JO", "962", "Jordan", "Иордания", "V"),
    (117, "PT", "351", "Portugal", "Португалия", "VRLM"),
    (118, "BB", "1246", "Barbados", "Барбадос", "V"),
    (119, "BI", "257", "Burundi", "Бурунди", "V"),
    (120, "BJ", "229", "Benin", "Бенин", "V"),
    (121, "BN", "673", "Brunei", "Бруней", "V"),
    (122, "BS", "1242", "Bahamas", "Багамы", "V"),
    (123, "BW", "267", "Botswana", "Ботсвана", "V"),
    (124, "BZ", "501", "Belize", "Белиз", "V"),
    (125, "CF", "236", "Central African Republic", "ЦАР", "V"),
    (126, "DM", "1767", "Dominica", "Доминика", "V"),
    (127, "GD", "1473", "Grenada", "Гренада", "V"),
    (128, "GE", "995", "Georgia", "Грузия", "VRM"),
    (129, "GR", "30", "Greece", "Греция", "VRLM"),
    (130, "GW", "245", "Guinea-Bissau", "Гвинея-Бисау", "V"),
    (131, "GY", "592", "Guyana", "Гайана", "V"),
    (132, "IS", "354", "Iceland", "Исландия", "V"),
    (133, "KM", "269", "Comoros", "Коморы", "V"),
    (134, "KN", "1869", "Saint Kitts and Nevis", "Сент-Китс и Невис", "V"),
    (135, "LR", "231", "Liberia", "Либерия", "V"),
    (136, "LS", "266", "Lesotho", "Лесото", "V"),
    (137, "MW", "265", "Malawi", "Малави", "V"),
    (138, "NA", "264", "Namibia", "Намибия", "V"),
    (139, "NE", "227", "Niger", "Нигер", "V"),
    (140, "RW", "250", "Rwanda", "Руанда", "V"),
    (141, "SK", "421", "Slovakia", "Словакия", "V"),
    (142, "SR", "597", "Suriname", "Суринам", "V"),
    (143, "TJ", "992", "Tajikistan", "Таджикистан", "VR"),
    (144, "MC", "377", "Monaco", "Монако", "V"),
    (145, "BH", "973", "Bahrain", "Бахрейн", "V"),
    (146, "RE", "262", "Reunion", "Реюньон", "V"),
    (147, "ZM", "260", "Zambia", "Замбия", "V"),
    (148, "AM", "374", "Armenia", "Армения", "VRM"),
    (149, "SO", "252", "Somalia", "Сомали", "V"),
    (150, "CG", "242", "Congo", "Конго", "V"),
    (151, "CL", "56", "Chile", "Чили", "VR"),
    (152, "BF", "226", "Burkina Faso", "Буркина-Фасо", "V"),
    (153, "LB", "961", "Lebanon", "Ливан", "V"),
    (154, "GA", "241", "Gabon", "Габон", "V"),
    (155, "AL", "355", "Albania", "Албания", "V"),
    (156, "UY", "598", "Uruguay", "Уругвай", "V"),
    (157, "MU", "230", "Mauritius", "Маврикий", "V"),
    (158, "BT", "975", "Bhutan", "Бутан", "V"),
    (159, "MV", "960", "Maldives", "Мальдивы", "V"),
    (160, "GP", "590", "Guadeloupe", "Гваделупа", "V"),
    (161, "TM", "993", "Turkmenistan", "Туркменистан", "V"),
    (162, "GF", "594", "French Guiana", "Французская Гвиана", "V"),
    (163, "FI", "358", "Finland", "Финляндия", "VRLM"),
    (164, "LC", "1758", "Saint Lucia", "Сент-Люсия", "V"),
    (165, "LU", "352", "Luxembourg", "Люксембург", "V"),
    (166, "VC", "1784", "Saint Vincent and the Grenadines", "Сент-Винсент и Гренадин", "V"),
    (167, "GQ", "240", "Equatorial Guinea", "Экваториальная Гвинея", "V"),
    (168, "DJ", "253", "Djibouti", "Джибути", "V"),
    (169, "AG", "1268", "Antigua and Barbuda", "Антигуа и Барбуда", "V"),
    (170, "KY", "1345", "Cayman Islands", "Острова Кайман", "V"),
    (171, "ME", "382", "Montenegro", "Черногория", "V"),
    (172, "DK", "45", "Denmark", "Дания", "VRLM"),
    (173, "CH", "41", "Switzerland", "Швейцария", "V"),
    (174, "NO", "47", "Norway", "Норвегия", "V"),
    (175, "AU", "61", "Australia", "Австралия", "VR"),
    (176, "ER", "291", "Eritrea", "Эритрея", "V"),
    (177, "SS", "211", "South Sudan", "Южный Судан", "V"),
    (178, "ST", "239", "Sao Tome and Principe", "Сан-Томе и Принсипи", "V"),
    (179, "AW", "297", "Aruba", "Аруба", "V"),
    (180, "MS", "1664", "Montserrat", "Монтсеррат", "V"),
    (181, "AI", "1264", "Anguilla", "Ангилья", "V"),
    (182, "JP", "81", "Japan", "Япония", ""),
    (183, "MK", "389", "North Macedonia", "Северная Македония", "V"),
    (184, "SC", "248", "Seychelles", "Республика Сейшелы", "V"),
    (185, "NC", "687", "New Caledonia", "Новая Каледония", "V"),
    (186, "CV", "238", "Cape Verde", "Кабо-Верде", "V"),
    (187, "US", "1", "USA", "США", "V"),
    (188, "PS", "970", "Palestine", "Палестина", ""),
    (189, "FJ", "679", "Fiji", "Фиджи", "V"),
    (190, "KR", "82", "South Korea", "Южная Корея", ""),
    (191, "KP", "850", "North Korea", "Северная Корея", ""),
    (192, "EH", "212", "Western Sahara", "Западная Сахара", ""),
    (193, "SB", "677", "Solomon Islands", "Соломоновы острова", ""),
    (194, "JE", "44", "Jersey", "Джерси", ""),
    (195, "BM", "1441", "Bermuda", "Бермуды", ""),
    (196, "SG", "65", "Singapore", "Сингапур", "V"),
    (197, "TO", "676", "Tonga", "Тонга", ""),
    (198, "WS", "685", "Samoa", "Самоа", ""),
    (199, "MT", "356", "Malta", "Мальта", ""),
    (200, "LI", "423", "Liechtenstein", "Лихтенштейн", ""),
    (201, "GI", "350", "Gibraltar", "Гибралтар", "V"),
    (202, "FO", "298", "Faroe Islands", "Фарерские острова", ""),
)

COUNTRIES: dict[int, Country] = {
    cid: Country(
        id=cid,
        iso=iso,
        en=en,
        ru=ru,
        dial=dial,
        visible="V" in flags,
        retry="R" in flags,
        rent="L" in flags,
        multi_service="M" in flags,
    )
    for cid, iso, dial, en, ru, flags in _TABLE
}


def country(country_id: int) -> Country | None:
    return COUNTRIES.get(country_id)


def country_name(country_id: int, locale: str) -> str:
    """The country's name in ``locale`` ("ru*" gives Russian, anything else English)."""
    found = COUNTRIES.get(country_id)
    return found.name(locale) if found is not None else f"#{country_id}"


def search_countries(query: str, among: Iterable[int]) -> list[int]:
    """The countries of ``among`` that ``query`` names, in either language or by ISO code.

    A whole name or code is the answer on its own ("niger" is not Nigeria too); otherwise the
    names it begins, then (from 3 letters) those it is part of, in the order of ``among``.
    """
    needle = fold(query)
    if not needle:
        return []
    exact: list[int] = []
    prefix: list[int] = []
    inside: list[int] = []
    for country_id in among:
        info = COUNTRIES.get(country_id)
        if info is None:
            continue
        names = (fold(info.en), fold(info.ru), fold(info.iso))
        if needle in names:
            exact.append(country_id)
        elif any(name.startswith(needle) for name in names):
            prefix.append(country_id)
        elif len(needle) > 2 and any(needle in name for name in names):
            inside.append(country_id)
    return exact or prefix + inside


def pick_countries(text: str) -> list[int]:
    """The countries a command's argument names: a number as /prices shows it (``6``, ``#6``),
    or a name in either language."""
    number = text.strip().lstrip("#")
    if number.isdecimal():
        return [int(number)] if len(number) <= 4 and int(number) in COUNTRIES else []
    return search_countries(text, COUNTRIES)
