//! Tests of RFC 8785 canonical JSON and evidence hashes, including the RFC's own vectors.
use proptest::prelude::*;
use serde_json::json;

use super::*;

/// Canonical form of a JSON text.
fn canonical_of(text: &str) -> String {
    let value: Value = serde_json::from_str(text).expect("test JSON parses");
    canonical_json(&value).expect("canonicalisable")
}

fn canonical_double(double: f64) -> String {
    let number = Number::from_f64(double).expect("finite");
    canonical_json(&Value::Number(number)).expect("canonicalisable")
}

#[test]
fn rfc8785_values_example() {
    let input = r#"{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"#;
    let expected = concat!(
        r#"{"literals":[null,true,false],"#,
        r#""numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#,
        r#""string":"€$\u000f\nA'B\"\\\\\"/"}"#,
    );
    assert_eq!(canonical_of(input), expected);
}

#[test]
fn members_are_sorted_by_utf16_code_units() {
    let input = r#"{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00d7": "Multiplication Sign",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let value: Value = serde_json::from_str(input).expect("parses");
    let canonical = canonical_json(&value).expect("canonicalisable");
    let reparsed: Vec<String> = canonical
        .trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .map(|member| member.split(':').next().expect("member name").to_owned())
        .collect();
    let expected_order = [
        "\r",
        "1",
        "\u{80}",
        "\u{d7}",
        "\u{f6}",
        "\u{20ac}",
        "\u{1f600}",
        "\u{fb33}",
    ]
    .map(|name| canonical_json(&json!(name)).expect("string"));
    assert_eq!(reparsed, expected_order);
}

#[test]
fn astral_characters_sort_before_high_bmp_characters() {
    // UTF-8 byte order (and serde_json's BTreeMap) puts U+FB33 first; UTF-16 puts the
    // surrogate pair of U+1F600 (0xD83D ...) first.
    let value = json!({ "\u{fb33}": 1, "\u{1f600}": 2 });
    assert_eq!(
        canonical_json(&value).expect("canonicalisable"),
        "{\"\u{1f600}\":2,\"\u{fb33}\":1}"
    );
}

#[test]
fn sorting_ignores_locale() {
    let input = r#"{"sin":4,"pêche":3,"péché":2,"peach":1}"#;
    assert_eq!(
        canonical_of(input),
        r#"{"peach":1,"péché":2,"pêche":3,"sin":4}"#
    );
}

#[test]
fn number_forms_follow_ecmascript() {
    let cases = [
        ("1e21", "1e+21"),
        ("1e-7", "1e-7"),
        ("0.000001", "0.000001"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("1.0", "1"),
        ("333333333.33333329", "333333333.3333333"),
        ("100", "100"),
        ("-42", "-42"),
        ("1E2", "100"),
        ("123456789012345678901", "123456789012345680000"),
        ("0.1", "0.1"),
        ("-1.5e-10", "-1.5e-10"),
    ];
    for (input, expected) in cases {
        assert_eq!(canonical_of(input), expected, "{input}");
    }
}

#[test]
fn rfc8785_appendix_b_doubles() {
    let cases: [(u64, &str); 24] = [
        (0x0000_0000_0000_0000, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
        (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xc340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
        (0x44b5_2d02_c7e1_4af6, "1e+23"),
        (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
        (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
        (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
        (0x444b_1ae4_d6e2_ef50, "1e+21"),
        (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
        (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
        (0x41b3_de43_5555_5553, "333333333.3333332"),
        (0x41b3_de43_5555_5554, "333333333.33333325"),
        (0x41b3_de43_5555_5555, "333333333.3333333"),
        (0x41b3_de43_5555_5556, "333333333.3333334"),
        (0x41b3_de43_5555_5557, "333333333.33333343"),
        (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
        (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
    ];
    for (bits, expected) in cases {
        assert_eq!(
            canonical_double(f64::from_bits(bits)),
            expected,
            "{bits:016x}"
        );
    }
}

#[test]
fn integers_that_a_double_holds_exactly_are_accepted() {
    let max_safe = 9_007_199_254_740_991_i64;
    assert_eq!(canonical_json(&json!(max_safe)), Ok(max_safe.to_string()));
    assert_eq!(
        canonical_json(&json!(-max_safe)),
        Ok((-max_safe).to_string())
    );
    assert_eq!(
        canonical_json(&json!(1_u64 << 53)),
        Ok("9007199254740992".into())
    );
    // 2^60 is exact; ECMAScript writes it with its shortest round-trip digits.
    assert_eq!(
        canonical_json(&json!(1_u64 << 60)),
        Ok("1152921504606847000".into())
    );
    assert_eq!(
        canonical_json(&json!(i64::MIN)),
        Ok("-9223372036854776000".into())
    );
    assert_eq!(canonical_json(&json!(0)), Ok("0".into()));
}

#[test]
fn integers_that_would_be_rounded_are_rejected() {
    for value in [
        json!(9_007_199_254_740_993_u64),
        json!(-9_007_199_254_740_993_i64),
        json!(i64::MAX),
        json!(u64::MAX),
        json!([1, {"id": 12_345_678_901_234_567_u64}]),
    ] {
        assert!(
            matches!(
                canonical_json(&value),
                Err(CanonicalJsonError::UnrepresentableInteger(_))
            ),
            "{value}"
        );
    }
    let error = canonical_json(&json!(i64::MAX)).expect_err("rounded");
    assert!(error.to_string().contains("9223372036854775807"));
}

#[test]
fn integers_already_in_canonical_text_are_accepted() {
    // Not exact, but it is how ECMAScript writes the nearest double (2^60), so canonical
    // output stays canonical when parsed again.
    assert_eq!(canonical_of("1152921504606847000"), "1152921504606847000");
}

#[test]
fn strings_use_ecmascript_escapes() {
    let text = "\"\\/\u{8}\t\n\u{b}\u{c}\r\u{0}\u{1f}\u{7f}\u{80}é\u{2028}😀<>&'";
    assert_eq!(
        canonical_json(&json!(text)).expect("string"),
        "\"\\\"\\\\/\\b\\t\\n\\u000b\\f\\r\\u0000\\u001f\u{7f}\u{80}é\u{2028}😀<>&'\""
    );
}

#[test]
fn nested_structures_have_no_whitespace() {
    let input = r#"
        { "b" : [ 1 , { "z" : null , "a" : [ ] } , [ [ "x" ] ] ] ,
          "a" : { "d" : { } , "c" : true , "e" : false } }
    "#;
    assert_eq!(
        canonical_of(input),
        r#"{"a":{"c":true,"d":{},"e":false},"b":[1,{"a":[],"z":null},[["x"]]]}"#
    );
    assert_eq!(canonical_of("[]"), "[]");
    assert_eq!(canonical_of("{}"), "{}");
    assert_eq!(canonical_of("\"\""), "\"\"");
    assert_eq!(canonical_of("null"), "null");
}

#[test]
fn hash_of_empty_object_is_the_sha256_of_braces() {
    let hash = evidence_hash(&json!({})).expect("hashable");
    assert_eq!(
        hash.to_hex(),
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}

#[test]
fn hash_ignores_formatting_and_member_order() {
    let tidy: Value =
        serde_json::from_str(r#"{"amount":150000,"asset":"B 1234 XY"}"#).expect("json");
    let messy: Value =
        serde_json::from_str("{ \"asset\" : \"B 1234 XY\",\n \"amount\" : 150000.0 }")
            .expect("json");
    assert_eq!(evidence_hash(&tidy), evidence_hash(&messy));
    let changed = json!({"amount": 150_001, "asset": "B 1234 XY"});
    assert_ne!(evidence_hash(&tidy), evidence_hash(&changed));
}

#[test]
fn hash_text_forms_round_trip() {
    let hash = evidence_hash(&json!({"a": 1})).expect("hashable");
    let hex = hash.to_hex();
    assert_eq!(hex.len(), 64);
    assert_eq!(hash.to_string(), hex);
    assert_eq!(hex.parse::<EvidenceHash>(), Ok(hash));
    assert_eq!(hex.to_uppercase().parse::<EvidenceHash>(), Ok(hash));
    assert_eq!(format!("{hash:?}"), format!("EvidenceHash({hex})"));
    let json = serde_json::to_string(&hash).expect("ser");
    assert_eq!(json, format!("\"{hex}\""));
    assert_eq!(
        serde_json::from_str::<EvidenceHash>(&json).expect("de"),
        hash
    );
    assert_eq!(hash.as_bytes(), &hash.0);
}

#[test]
fn malformed_hashes_are_rejected() {
    assert_eq!(
        "abc".parse::<EvidenceHash>(),
        Err(EvidenceHashParseError::WrongLength(3))
    );
    assert_eq!(
        "g".repeat(64).parse::<EvidenceHash>(),
        Err(EvidenceHashParseError::NotHex)
    );
    let with_accent = format!("{}é", "0".repeat(63));
    assert_eq!(
        with_accent.parse::<EvidenceHash>(),
        Err(EvidenceHashParseError::NotHex)
    );
    assert!(serde_json::from_str::<EvidenceHash>("\"00\"").is_err());
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1_i64 << 53)..=(1_i64 << 53)).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |double| Number::from_f64(double)
            .map(Value::Number)),
        any::<String>().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Named members of a JSON object, in some order.
type Members = Vec<(String, Value)>;

/// The same members in two different orders.
fn shuffled_members() -> impl Strategy<Value = (Members, Members)> {
    prop::collection::btree_map(any::<String>(), json_value(), 0..10).prop_flat_map(|members| {
        let ordered: Members = members.into_iter().collect();
        (Just(ordered.clone()), Just(ordered).prop_shuffle())
    })
}

fn object_text(members: &[(String, Value)]) -> String {
    let written: Vec<String> = members
        .iter()
        .map(|(name, value)| {
            let name = serde_json::to_string(name).expect("ser");
            let value = serde_json::to_string(value).expect("ser");
            format!("{name} : {value}")
        })
        .collect();
    format!("{{ {} }}", written.join(" , "))
}

proptest! {
    #[test]
    fn canonical_form_ignores_member_order((ordered, shuffled) in shuffled_members()) {
        let first = canonical_of(&object_text(&ordered));
        let second = canonical_of(&object_text(&shuffled));
        prop_assert_eq!(&first, &second);
        let built = Value::Object(ordered.into_iter().collect());
        prop_assert_eq!(canonical_json(&built).expect("canonicalisable"), first);
    }

    #[test]
    fn canonicalising_canonical_output_changes_nothing(value in json_value()) {
        let canonical = canonical_json(&value).expect("generated values are canonicalisable");
        prop_assert_eq!(canonical_of(&canonical), canonical);
    }

    #[test]
    fn canonical_output_denotes_the_same_value(value in json_value()) {
        let canonical = canonical_json(&value).expect("canonicalisable");
        let reparsed: Value = serde_json::from_str(&canonical).expect("canonical output is JSON");
        prop_assert_eq!(canonical_json(&reparsed).expect("canonicalisable"), canonical);
        prop_assert_eq!(json_numbers_as_f64(&reparsed), json_numbers_as_f64(&value));
    }

    #[test]
    fn any_integer_is_canonical_or_rejected_as_unrepresentable(integer in any::<i64>()) {
        match canonical_json(&json!(integer)) {
            Ok(text) => {
                let double: f64 = text.parse().expect("a number");
                #[allow(clippy::cast_precision_loss)]
                let nearest = integer as f64;
                prop_assert_eq!(double.to_bits(), nearest.to_bits());
            }
            Err(error) => {
                prop_assert!(integer.unsigned_abs() > 1 << 53);
                prop_assert_eq!(error, CanonicalJsonError::UnrepresentableInteger(integer.to_string()));
            }
        }
    }

    #[test]
    fn hex_round_trips(bytes in any::<[u8; 32]>()) {
        let hash = EvidenceHash(bytes);
        prop_assert_eq!(hash.to_hex().parse::<EvidenceHash>(), Ok(hash));
    }
}

/// Every number in `value`, depth first, as the double it denotes.
fn json_numbers_as_f64(value: &Value) -> Vec<u64> {
    let mut found = Vec::new();
    collect_numbers(value, &mut found);
    found
}

fn collect_numbers(value: &Value, found: &mut Vec<u64>) {
    match value {
        Value::Number(number) => {
            let double = number.as_f64().expect("finite");
            // -0 is written as 0, so compare it as 0.
            found.push(if double == 0.0 { 0 } else { double.to_bits() });
        }
        Value::Array(items) => {
            for item in items {
                collect_numbers(item, found);
            }
        }
        Value::Object(members) => {
            let mut sorted: Vec<_> = members.iter().collect();
            sorted.sort_by_key(|(name, _)| *name);
            for (_, member) in sorted {
                collect_numbers(member, found);
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}
