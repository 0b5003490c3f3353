//! China customs code tables: the statistics platform's trading-partner codes (3 digits: 1xx Asia, 2xx
//! Africa, 3xx Europe, 4xx Latin America, 5xx North America, 6xx Oceania, 7xx/999 special), the registration
//! places of importers and exporters (2-digit GB/T 2260 prefixes) with their ISO 3166-2 codes, province
//! names as they appear in free text (bills of lading), and the customs regimes.

/// One trading-partner code: its ISO 3166-1 alpha-2 code (`None` for groups and special codes) and its
/// Chinese name as the platform prints it.
pub struct Partner {
    pub code: u16,
    pub iso: Option<&'static str>,
    pub zh: &'static str,
    pub en: &'static str,
}

const fn p(code: u16, iso: &'static str, zh: &'static str, en: &'static str) -> Partner {
    Partner {
        code,
        iso: Some(iso),
        zh,
        en,
    }
}

const fn none(code: u16, zh: &'static str, en: &'static str) -> Partner {
    Partner {
        code,
        iso: None,
        zh,
        en,
    }
}

/// Every code of the platform's trading-partner table. Territories the platform lists on their own but
/// ISO 3166-1 places inside a country map to that country: the Canary Islands (207), Ceuta (210) and
/// Melilla (256) to ES; the Gambier, Marquesas, Society, Tuamotu and Tubuai islands (604, 605, 612, 615,
/// 616) to French Polynesia (PF); Bonaire (409) and Saba (436) to BQ. Codes that are not one country
/// (regional remainders, "unknown", international organisations, neutral packaging, and the former
/// Serbia and Montenegro and Netherlands Antilles, whose ISO codes were withdrawn) have no ISO code.
pub const PARTNERS: &[Partner] = &[
    p(101, "AF", "阿富汗", "Afghanistan"),
    p(102, "BH", "巴林", "Bahrain"),
    p(103, "BD", "孟加拉国", "Bangladesh"),
    p(104, "BT", "不丹", "Bhutan"),
    p(105, "BN", "文莱", "Brunei"),
    p(106, "MM", "缅甸", "Myanmar"),
    p(107, "KH", "柬埔寨", "Cambodia"),
    p(108, "CY", "塞浦路斯", "Cyprus"),
    p(109, "KP", "朝鲜", "Korea, DPR"),
    p(110, "HK", "中国香港", "Hong Kong, China"),
    p(111, "IN", "印度", "India"),
    p(112, "ID", "印度尼西亚", "Indonesia"),
    p(113, "IR", "伊朗", "Iran"),
    p(114, "IQ", "伊拉克", "Iraq"),
    p(115, "IL", "以色列", "Israel"),
    p(116, "JP", "日本", "Japan"),
    p(117, "JO", "约旦", "Jordan"),
    p(118, "KW", "科威特", "Kuwait"),
    p(119, "LA", "老挝", "Laos"),
    p(120, "LB", "黎巴嫩", "Lebanon"),
    p(121, "MO", "中国澳门", "Macao, China"),
    p(122, "MY", "马来西亚", "Malaysia"),
    p(123, "MV", "马尔代夫", "Maldives"),
    p(124, "MN", "蒙古", "Mongolia"),
    p(125, "NP", "尼泊尔", "Nepal"),
    p(126, "OM", "阿曼", "Oman"),
    p(127, "PK", "巴基斯坦", "Pakistan"),
    p(128, "PS", "巴勒斯坦", "Palestine"),
    p(129, "PH", "菲律宾", "Philippines"),
    p(130, "QA", "卡塔尔", "Qatar"),
    p(131, "SA", "沙特阿拉伯", "Saudi Arabia"),
    p(132, "SG", "新加坡", "Singapore"),
    p(133, "KR", "韩国", "Korea, Rep."),
    p(134, "LK", "斯里兰卡", "Sri Lanka"),
    p(135, "SY", "叙利亚", "Syria"),
    p(136, "TH", "泰国", "Thailand"),
    p(137, "TR", "土耳其", "Turkey"),
    p(138, "AE", "阿联酋", "United Arab Emirates"),
    p(139, "YE", "也门", "Yemen"),
    p(141, "VN", "越南", "Viet Nam"),
    p(142, "CN", "中国", "China"),
    p(143, "TW", "中国台湾", "Taiwan, China"),
    p(144, "TL", "东帝汶", "Timor-Leste"),
    p(145, "KZ", "哈萨克斯坦", "Kazakhstan"),
    p(146, "KG", "吉尔吉斯斯坦", "Kyrgyzstan"),
    p(147, "TJ", "塔吉克斯坦", "Tajikistan"),
    p(148, "TM", "土库曼斯坦", "Turkmenistan"),
    p(149, "UZ", "乌兹别克斯坦", "Uzbekistan"),
    none(199, "亚洲其他国家（地区）", "Other Asia"),
    p(201, "DZ", "阿尔及利亚", "Algeria"),
    p(202, "AO", "安哥拉", "Angola"),
    p(203, "BJ", "贝宁", "Benin"),
    p(204, "BW", "博茨瓦纳", "Botswana"),
    p(205, "BI", "布隆迪", "Burundi"),
    p(206, "CM", "喀麦隆", "Cameroon"),
    p(207, "ES", "加那利群岛", "Canary Islands"),
    p(208, "CV", "佛得角", "Cape Verde"),
    p(209, "CF", "中非", "Central African Republic"),
    p(210, "ES", "塞卜泰（休达）", "Ceuta"),
    p(211, "TD", "乍得", "Chad"),
    p(212, "KM", "科摩罗", "Comoros"),
    p(213, "CG", "刚果（布）", "Congo"),
    p(214, "DJ", "吉布提", "Djibouti"),
    p(215, "EG", "埃及", "Egypt"),
    p(216, "GQ", "赤道几内亚", "Equatorial Guinea"),
    p(217, "ET", "埃塞俄比亚", "Ethiopia"),
    p(218, "GA", "加蓬", "Gabon"),
    p(219, "GM", "冈比亚", "Gambia"),
    p(220, "GH", "加纳", "Ghana"),
    p(221, "GN", "几内亚", "Guinea"),
    p(222, "GW", "几内亚比绍", "Guinea-Bissau"),
    p(223, "CI", "科特迪瓦", "Cote d'Ivoire"),
    p(224, "KE", "肯尼亚", "Kenya"),
    p(225, "LR", "利比里亚", "Liberia"),
    p(226, "LY", "利比亚", "Libya"),
    p(227, "MG", "马达加斯加", "Madagascar"),
    p(228, "MW", "马拉维", "Malawi"),
    p(229, "ML", "马里", "Mali"),
    p(230, "MR", "毛里塔尼亚", "Mauritania"),
    p(231, "MU", "毛里求斯", "Mauritius"),
    p(232, "MA", "摩洛哥", "Morocco"),
    p(233, "MZ", "莫桑比克", "Mozambique"),
    p(234, "NA", "纳米比亚", "Namibia"),
    p(235, "NE", "尼日尔", "Niger"),
    p(236, "NG", "尼日利亚", "Nigeria"),
    p(237, "RE", "留尼汪", "Reunion"),
    p(238, "RW", "卢旺达", "Rwanda"),
    p(239, "ST", "圣多美和普林西比", "Sao Tome and Principe"),
    p(240, "SN", "塞内加尔", "Senegal"),
    p(241, "SC", "塞舌尔", "Seychelles"),
    p(242, "SL", "塞拉利昂", "Sierra Leone"),
    p(243, "SO", "索马里", "Somalia"),
    p(244, "ZA", "南非", "South Africa"),
    p(245, "EH", "西撒哈拉", "Western Sahara"),
    p(246, "SD", "苏丹", "Sudan"),
    p(247, "TZ", "坦桑尼亚", "Tanzania"),
    p(248, "TG", "多哥", "Togo"),
    p(249, "TN", "突尼斯", "Tunisia"),
    p(250, "UG", "乌干达", "Uganda"),
    p(251, "BF", "布基纳法索", "Burkina Faso"),
    p(252, "CD", "刚果（金）", "Congo, DR"),
    p(253, "ZM", "赞比亚", "Zambia"),
    p(254, "ZW", "津巴布韦", "Zimbabwe"),
    p(255, "LS", "莱索托", "Lesotho"),
    p(256, "ES", "梅利利亚", "Melilla"),
    p(257, "SZ", "斯威士兰", "Eswatini"),
    p(258, "ER", "厄立特里亚", "Eritrea"),
    p(259, "YT", "马约特", "Mayotte"),
    p(260, "SS", "南苏丹", "South Sudan"),
    none(299, "非洲其他国家（地区）", "Other Africa"),
    p(301, "BE", "比利时", "Belgium"),
    p(302, "DK", "丹麦", "Denmark"),
    p(303, "GB", "英国", "United Kingdom"),
    p(304, "DE", "德国", "Germany"),
    p(305, "FR", "法国", "France"),
    p(306, "IE", "爱尔兰", "Ireland"),
    p(307, "IT", "意大利", "Italy"),
    p(308, "LU", "卢森堡", "Luxembourg"),
    p(309, "NL", "荷兰", "Netherlands"),
    p(310, "GR", "希腊", "Greece"),
    p(311, "PT", "葡萄牙", "Portugal"),
    p(312, "ES", "西班牙", "Spain"),
    p(313, "AL", "阿尔巴尼亚", "Albania"),
    p(314, "AD", "安道尔", "Andorra"),
    p(315, "AT", "奥地利", "Austria"),
    p(316, "BG", "保加利亚", "Bulgaria"),
    p(318, "FI", "芬兰", "Finland"),
    p(320, "GI", "直布罗陀", "Gibraltar"),
    p(321, "HU", "匈牙利", "Hungary"),
    p(322, "IS", "冰岛", "Iceland"),
    p(323, "LI", "列支敦士登", "Liechtenstein"),
    p(324, "MT", "马耳他", "Malta"),
    p(325, "MC", "摩纳哥", "Monaco"),
    p(326, "NO", "挪威", "Norway"),
    p(327, "PL", "波兰", "Poland"),
    p(328, "RO", "罗马尼亚", "Romania"),
    p(329, "SM", "圣马力诺", "San Marino"),
    p(330, "SE", "瑞典", "Sweden"),
    p(331, "CH", "瑞士", "Switzerland"),
    p(334, "EE", "爱沙尼亚", "Estonia"),
    p(335, "LV", "拉脱维亚", "Latvia"),
    p(336, "LT", "立陶宛", "Lithuania"),
    p(337, "GE", "格鲁吉亚", "Georgia"),
    p(338, "AM", "亚美尼亚", "Armenia"),
    p(339, "AZ", "阿塞拜疆", "Azerbaijan"),
    p(340, "BY", "白俄罗斯", "Belarus"),
    p(343, "MD", "摩尔多瓦", "Moldova"),
    p(344, "RU", "俄罗斯联邦", "Russian Federation"),
    p(347, "UA", "乌克兰", "Ukraine"),
    none(349, "塞尔维亚和黑山", "Serbia and Montenegro (former)"),
    p(350, "SI", "斯洛文尼亚", "Slovenia"),
    p(351, "HR", "克罗地亚", "Croatia"),
    p(352, "CZ", "捷克", "Czechia"),
    p(353, "SK", "斯洛伐克", "Slovakia"),
    p(354, "MK", "北马其顿", "North Macedonia"),
    p(355, "BA", "波黑", "Bosnia and Herzegovina"),
    p(356, "VA", "梵蒂冈城国", "Holy See"),
    p(357, "FO", "法罗群岛", "Faroe Islands"),
    p(358, "RS", "塞尔维亚", "Serbia"),
    p(359, "ME", "黑山", "Montenegro"),
    none(399, "欧洲其他国家（地区）", "Other Europe"),
    p(401, "AG", "安提瓜和巴布达", "Antigua and Barbuda"),
    p(402, "AR", "阿根廷", "Argentina"),
    p(403, "AW", "阿鲁巴", "Aruba"),
    p(404, "BS", "巴哈马", "Bahamas"),
    p(405, "BB", "巴巴多斯", "Barbados"),
    p(406, "BZ", "伯利兹", "Belize"),
    p(408, "BO", "玻利维亚", "Bolivia"),
    p(409, "BQ", "博内尔", "Bonaire"),
    p(410, "BR", "巴西", "Brazil"),
    p(411, "KY", "开曼群岛", "Cayman Islands"),
    p(412, "CL", "智利", "Chile"),
    p(413, "CO", "哥伦比亚", "Colombia"),
    p(414, "DM", "多米尼克", "Dominica"),
    p(415, "CR", "哥斯达黎加", "Costa Rica"),
    p(416, "CU", "古巴", "Cuba"),
    p(417, "CW", "库腊索岛", "Curacao"),
    p(418, "DO", "多米尼加", "Dominican Republic"),
    p(419, "EC", "厄瓜多尔", "Ecuador"),
    p(420, "GF", "法属圭亚那", "French Guiana"),
    p(421, "GD", "格林纳达", "Grenada"),
    p(422, "GP", "瓜德罗普", "Guadeloupe"),
    p(423, "GT", "危地马拉", "Guatemala"),
    p(424, "GY", "圭亚那", "Guyana"),
    p(425, "HT", "海地", "Haiti"),
    p(426, "HN", "洪都拉斯", "Honduras"),
    p(427, "JM", "牙买加", "Jamaica"),
    p(428, "MQ", "马提尼克", "Martinique"),
    p(429, "MX", "墨西哥", "Mexico"),
    p(430, "MS", "蒙特塞拉特", "Montserrat"),
    p(431, "NI", "尼加拉瓜", "Nicaragua"),
    p(432, "PA", "巴拿马", "Panama"),
    p(433, "PY", "巴拉圭", "Paraguay"),
    p(434, "PE", "秘鲁", "Peru"),
    p(435, "PR", "波多黎各", "Puerto Rico"),
    p(436, "BQ", "萨巴", "Saba"),
    p(437, "LC", "圣卢西亚", "Saint Lucia"),
    p(438, "SX", "圣马丁岛", "Sint Maarten"),
    p(
        439,
        "VC",
        "圣文森特和格林纳丁斯",
        "Saint Vincent and the Grenadines",
    ),
    p(440, "SV", "萨尔瓦多", "El Salvador"),
    p(441, "SR", "苏里南", "Suriname"),
    p(442, "TT", "特立尼达和多巴哥", "Trinidad and Tobago"),
    p(443, "TC", "特克斯和凯科斯群岛", "Turks and Caicos Islands"),
    p(444, "UY", "乌拉圭", "Uruguay"),
    p(445, "VE", "委内瑞拉", "Venezuela"),
    p(446, "VG", "英属维尔京群岛", "British Virgin Islands"),
    p(447, "KN", "圣基茨和尼维斯", "Saint Kitts and Nevis"),
    p(448, "PM", "圣皮埃尔和密克隆", "Saint Pierre and Miquelon"),
    none(449, "荷属安地列斯", "Netherlands Antilles (former)"),
    none(499, "拉丁美洲其他国家（地区）", "Other Latin America"),
    p(501, "CA", "加拿大", "Canada"),
    p(502, "US", "美国", "United States"),
    p(503, "GL", "格陵兰", "Greenland"),
    p(504, "BM", "百慕大", "Bermuda"),
    none(599, "北美洲其他国家（地区）", "Other North America"),
    p(601, "AU", "澳大利亚", "Australia"),
    p(602, "CK", "库克群岛", "Cook Islands"),
    p(603, "FJ", "斐济", "Fiji"),
    p(604, "PF", "盖比群岛", "Gambier Islands"),
    p(605, "PF", "马克萨斯群岛", "Marquesas Islands"),
    p(606, "NR", "瑙鲁", "Nauru"),
    p(607, "NC", "新喀里多尼亚", "New Caledonia"),
    p(608, "VU", "瓦努阿图", "Vanuatu"),
    p(609, "NZ", "新西兰", "New Zealand"),
    p(610, "NF", "诺福克岛", "Norfolk Island"),
    p(611, "PG", "巴布亚新几内亚", "Papua New Guinea"),
    p(612, "PF", "社会群岛", "Society Islands"),
    p(613, "SB", "所罗门群岛", "Solomon Islands"),
    p(614, "TO", "汤加", "Tonga"),
    p(615, "PF", "土阿莫土群岛", "Tuamotu Islands"),
    p(616, "PF", "土布艾群岛", "Tubuai Islands"),
    p(617, "WS", "萨摩亚", "Samoa"),
    p(618, "KI", "基里巴斯", "Kiribati"),
    p(619, "TV", "图瓦卢", "Tuvalu"),
    p(620, "FM", "密克罗尼西亚联邦", "Micronesia"),
    p(621, "MH", "马绍尔群岛", "Marshall Islands"),
    p(622, "PW", "帕劳", "Palau"),
    p(623, "PF", "法属波利尼西亚", "French Polynesia"),
    p(625, "WF", "瓦利斯和浮图纳", "Wallis and Futuna"),
    none(699, "大洋洲其他国家（地区）", "Other Oceania"),
    none(701, "国（地）别不详", "Country unknown"),
    none(
        702,
        "联合国及机构和国际组织",
        "UN and international organisations",
    ),
    none(999, "中性包装原产国别", "Neutral packaging"),
];

/// The ISO alpha-2 code of a trading-partner code, or why there is none.
pub fn partner(code: &str) -> Result<&'static str, String> {
    let c = code.trim();
    let n: u16 = c
        .parse()
        .map_err(|_| format!("'{code}' is not a China customs partner code (three digits)"))?;
    match PARTNERS.iter().find(|p| p.code == n) {
        Some(Partner { iso: Some(iso), .. }) => Ok(iso),
        Some(p) => Err(format!(
            "partner code {n} is '{}' ({}), not one country",
            p.en, p.zh
        )),
        None => Err(format!(
            "unknown China customs partner code '{code}' (not in the platform's partner table)"
        )),
    }
}

/// A registration place (收发货人注册地): the GB/T 2260 prefix, the ISO 3166-2 code, the Chinese and English
/// names, and other spellings seen in free text (bills of lading).
pub struct Place {
    pub code: &'static str,
    pub iso: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub also: &'static [&'static str],
}

const fn pl(
    code: &'static str,
    iso: &'static str,
    zh: &'static str,
    en: &'static str,
    also: &'static [&'static str],
) -> Place {
    Place {
        code,
        iso,
        zh,
        en,
        also,
    }
}

/// The 31 mainland provinces, autonomous regions and municipalities (Hong Kong, Macao and Taiwan are
/// trading partners 110, 121 and 143, never registration places).
pub const PLACES: &[Place] = &[
    pl("11", "CN-BJ", "北京", "beijing", &["peking"]),
    pl("12", "CN-TJ", "天津", "tianjin", &[]),
    pl("13", "CN-HE", "河北", "hebei", &[]),
    pl("14", "CN-SX", "山西", "shanxi", &[]),
    pl(
        "15",
        "CN-NM",
        "内蒙古",
        "nei mongol",
        &["inner mongolia", "neimenggu", "nei menggu", "neimongol"],
    ),
    pl("21", "CN-LN", "辽宁", "liaoning", &[]),
    pl("22", "CN-JL", "吉林", "jilin", &[]),
    pl("23", "CN-HL", "黑龙江", "heilongjiang", &[]),
    pl("31", "CN-SH", "上海", "shanghai", &[]),
    pl("32", "CN-JS", "江苏", "jiangsu", &[]),
    pl("33", "CN-ZJ", "浙江", "zhejiang", &[]),
    pl("34", "CN-AH", "安徽", "anhui", &[]),
    pl("35", "CN-FJ", "福建", "fujian", &[]),
    pl("36", "CN-JX", "江西", "jiangxi", &[]),
    pl("37", "CN-SD", "山东", "shandong", &[]),
    pl("41", "CN-HA", "河南", "henan", &[]),
    pl("42", "CN-HB", "湖北", "hubei", &[]),
    pl("43", "CN-HN", "湖南", "hunan", &[]),
    pl("44", "CN-GD", "广东", "guangdong", &["canton"]),
    pl(
        "45",
        "CN-GX",
        "广西",
        "guangxi",
        &["guangxi zhuang", "guangxi zhuangzu"],
    ),
    pl("46", "CN-HI", "海南", "hainan", &[]),
    pl("50", "CN-CQ", "重庆", "chongqing", &["chungking"]),
    pl("51", "CN-SC", "四川", "sichuan", &["szechuan", "szechwan"]),
    pl("52", "CN-GZ", "贵州", "guizhou", &[]),
    pl("53", "CN-YN", "云南", "yunnan", &[]),
    pl("54", "CN-XZ", "西藏", "xizang", &["tibet"]),
    pl("61", "CN-SN", "陕西", "shaanxi", &[]),
    pl("62", "CN-GS", "甘肃", "gansu", &[]),
    pl("63", "CN-QH", "青海", "qinghai", &[]),
    pl(
        "64",
        "CN-NX",
        "宁夏",
        "ningxia",
        &["ningxia hui", "ningxia huizu"],
    ),
    pl(
        "65",
        "CN-XJ",
        "新疆",
        "xinjiang",
        &[
            "xinjiang uygur",
            "xinjiang uyghur",
            "xinjiang uighur",
            "sinkiang",
        ],
    ),
];

/// The ISO 3166-2 code of a registration-place code (`41` → `CN-HA`), or why there is none.
pub fn place(code: &str) -> Result<&'static str, String> {
    let c = code.trim();
    PLACES
        .iter()
        .find(|p| p.code == c)
        .map(|p| p.iso)
        .ok_or_else(|| {
            format!("unknown registration-place code '{code}' (expected a 2-digit GB/T 2260 province prefix such as 41 for Henan)")
        })
}

/// Words that only say what kind of division a name is.
const DIVISION_WORDS: &[&str] = &[
    "province",
    "prov",
    "sheng",
    "shi",
    "city",
    "municipality",
    "autonomous",
    "region",
    "zizhiqu",
    "ar",
    "pr",
    "china",
    "prc",
    "cn",
];

/// The ISO 3166-2 code of a Chinese province written in free text: `HENAN`, `Henan Sheng`, `Henan
/// Province`, `河南省`, `河南`. `None` when the text names no province or is ambiguous.
pub fn province_by_name(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        let mut s = t.to_string();
        for suffix in [
            "维吾尔自治区",
            "壮族自治区",
            "回族自治区",
            "自治区",
            "特别行政区",
            "省",
            "市",
        ] {
            if let Some(x) = s.strip_suffix(suffix) {
                s = x.to_string();
                break;
            }
        }
        return PLACES.iter().find(|p| p.zh == s).map(|p| p.iso);
    }
    let lower = t.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !DIVISION_WORDS.contains(w))
        .collect();
    if words.is_empty() {
        return None;
    }
    let joined = words.join(" ");
    let compact = words.concat();
    PLACES
        .iter()
        .find(|p| {
            std::iter::once(p.en)
                .chain(p.also.iter().copied())
                .any(|n| n == joined || n.replace(' ', "") == compact)
        })
        .map(|p| p.iso)
}

/// Looks for exactly one province named as whole words in longer text (an address line). `None` when
/// there is none or more than one.
pub fn province_in_text(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut found: Vec<&'static str> = Vec::new();
    for p in PLACES {
        for n in std::iter::once(p.en).chain(p.also.iter().copied()) {
            let nw: Vec<&str> = n.split(' ').collect();
            if words.windows(nw.len()).any(|w| w == nw.as_slice()) && !found.contains(&p.iso) {
                found.push(p.iso);
            }
        }
    }
    if found.len() == 1 {
        Some(found[0])
    } else {
        None
    }
}

/// The customs regimes (贸易方式) with a word of SPEC §2's vocabulary; other codes are kept as they are.
pub const REGIMES: &[(&str, &str, &str)] = &[
    ("10", "general", "一般贸易 Ordinary Trade"),
    (
        "11",
        "aid",
        "国家间、国际组织无偿援助和赠送的物资 Aid or Donation Between Governments or by International Organizations",
    ),
    ("12", "donation", "其他捐赠物资 Other Donation"),
    ("13", "compensation-trade", "补偿贸易 Compensation Trade"),
    (
        "14",
        "processing-assembly",
        "来料加工贸易 Processing and Assembling",
    ),
    (
        "15",
        "processing-imported-materials",
        "进料加工贸易 Processing with Imported Materials",
    ),
    ("16", "consignment", "寄售代销贸易 Goods on Consignment"),
    ("19", "border-trade", "边境小额贸易 Border Trade"),
    (
        "20",
        "processing-equipment",
        "加工贸易进口设备 Equipment for Processing Trade",
    ),
    (
        "22",
        "contracting-projects",
        "对外承包工程出口货物 Contracting Projects",
    ),
    ("23", "lease", "租赁贸易 Goods on Lease"),
    (
        "25",
        "investment-equipment",
        "外商投资企业作为投资进口的设备、物品 Equipment or Materials Imported as Investment by Foreign-Invested Enterprises",
    ),
    (
        "27",
        "outward-processing",
        "出料加工贸易 Outward Processing",
    ),
    ("30", "barter", "易货贸易 Barter Trade"),
    (
        "31",
        "duty-free-foreign-currency",
        "免税外汇商品 Duty-free Commodities on Payment of Foreign Currency",
    ),
    (
        "33",
        "bonded-warehouse",
        "保税监管场所进出境货物 Customs Warehousing Trade",
    ),
    (
        "34",
        "bonded-area",
        "海关特殊监管区域物流货物 Entrepot Trade by Bonded Area",
    ),
    (
        "35",
        "special-area-equipment",
        "海关特殊监管区域进口设备 Equipment Imported into Customs Special Control Area",
    ),
    ("39", "other", "其他贸易 Other"),
    ("41", "duty-free", "免税品 Duty-free goods"),
];

/// The `regime` value written for a regime code: SPEC §2's word where there is one, else `cn:CODE`.
pub fn regime(code: &str) -> String {
    let c = code.trim();
    REGIMES
        .iter()
        .find(|r| r.0 == c)
        .map(|r| r.1.to_string())
        .unwrap_or_else(|| format!("cn:{c}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::codes::{Country, Region};

    #[test]
    fn every_partner_code_maps_to_a_real_country() {
        let mut seen = std::collections::HashSet::new();
        for p in PARTNERS {
            assert!(seen.insert(p.code), "code {} twice", p.code);
            if let Some(iso) = p.iso {
                assert!(Country::parse(iso).is_ok(), "{} -> {iso}", p.code);
            }
        }
        assert_eq!(partner("109"), Ok("KP"));
        assert_eq!(partner("110"), Ok("HK"));
        assert_eq!(partner("121"), Ok("MO"));
        assert_eq!(partner("133"), Ok("KR"));
        assert_eq!(partner("142"), Ok("CN"));
        assert_eq!(partner("143"), Ok("TW"));
        assert_eq!(partner("502"), Ok("US"));
        assert!(partner("199").unwrap_err().contains("not one country"));
        assert!(partner("998").unwrap_err().contains("unknown"));
    }

    #[test]
    fn every_place_is_an_iso_region_of_china() {
        assert_eq!(PLACES.len(), 31);
        for p in PLACES {
            let r = Region::parse(p.iso).unwrap();
            assert_eq!(r.country().as_str(), "CN");
        }
        assert_eq!(place("41"), Ok("CN-HA"));
        assert_eq!(place("37"), Ok("CN-SD"));
        assert!(place("99").is_err());
    }

    #[test]
    fn province_names_in_free_text() {
        for s in [
            "HENAN",
            "Henan Sheng",
            "Henan Province",
            "河南省",
            "河南",
            "henan prov.",
        ] {
            assert_eq!(province_by_name(s), Some("CN-HA"), "{s}");
        }
        assert_eq!(province_by_name("SHAANXI"), Some("CN-SN"));
        assert_eq!(province_by_name("Shanxi"), Some("CN-SX"));
        assert_eq!(province_by_name("Inner Mongolia"), Some("CN-NM"));
        assert_eq!(province_by_name("新疆维吾尔自治区"), Some("CN-XJ"));
        assert_eq!(province_by_name("HN"), None);
        assert_eq!(province_by_name("XUCHANG"), None);
        assert_eq!(
            province_in_text("NO. 8 RUIXIANG ROAD, XUCHANG, HENAN 461000"),
            Some("CN-HA")
        );
        assert_eq!(province_in_text("HENAN OR HEBEI"), None);
    }
}
