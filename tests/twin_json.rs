//! The JSON scanner: RFC 8259 edge cases, lookups, integers, and a
//! fuzz-style sweep of truncations and mutations.

use nimbus::twin::json::{
    self, find, lookup, members, parse_i64, parse_u64, unescape, validate, Member, Scanner, Token,
    MAX_DEPTH,
};
use nimbus::Error;

fn ok(doc: &str) {
    assert!(
        serde_json::from_str::<serde_json::Value>(doc).is_ok(),
        "reference disagrees: {doc:?}"
    );
    assert!(validate(doc.as_bytes()).is_ok(), "should be valid: {doc:?}");
}

fn bad(doc: &[u8]) {
    assert!(
        serde_json::from_slice::<serde_json::Value>(doc).is_err(),
        "reference disagrees"
    );
    assert_eq!(
        validate(doc),
        Err(Error::InvalidJson),
        "should be invalid: {:?}",
        String::from_utf8_lossy(doc)
    );
}

#[test]
fn accepts_every_kind_of_value() {
    for doc in [
        "0",
        "-0",
        "1",
        "-1.5",
        "3.25e10",
        "1E+2",
        "1e-2",
        "-0.0e-0",
        "true",
        "false",
        "null",
        "\"\"",
        "{}",
        "[]",
        " \t\r\n{ \"a\" : [ 1 , 2 , { } , [ ] ] } \n",
        r#"{"a":{"b":{"c":[true,false,null,"x"]}}}"#,
        r#"[1,"two",{"three":3},[4]]"#,
    ] {
        ok(doc);
    }
}

#[test]
fn strings_with_every_escape() {
    ok(r#""\" \\ \/ \b \f \n \r \t""#);
    ok(r#""\u0041\u00e9\u20AC""#);
    ok("\"h\u{e9}llo \u{1F600} \u{4e16}\"");
    // Surrogate pair for U+1F600.
    ok(r#""\uD83D\uDE00""#);
    ok(r#""\ud83d\ude00""#);
    let mut buf = [0u8; 64];
    assert_eq!(
        unescape(br#"a\"b\\c\/d\n\u0041\u00e9\uD83D\uDE00"#, &mut buf),
        Ok("a\"b\\c/d\nA\u{e9}\u{1F600}")
    );
    assert_eq!(
        unescape(b"abcdef", &mut buf[..3]),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(unescape(br"\x", &mut buf), Err(Error::InvalidJson));
}

#[test]
fn rejects_bad_strings() {
    for doc in [
        r#""\x""#,
        r#""\u12""#,
        r#""\u12G4""#,
        r#""\""#,
        r#""abc"#,
        // Lone and misordered surrogates.
        r#""\uD83D""#,
        r#""\uD83Dx""#,
        r#""\uD83D\u0041""#,
        r#""\uDE00""#,
        r#""\uDE00\uD83D""#,
        r#""\uD83D\uD83D""#,
        "'single'",
    ] {
        bad(doc.as_bytes());
    }
    // Raw control characters must be escaped.
    for c in [0u8, 0x01, b'\n', b'\t', 0x1F] {
        bad(&[b'"', b'a', c, b'"']);
    }
    // Invalid UTF-8: a lone continuation byte, a truncated sequence, an
    // overlong encoding, an encoded surrogate.
    for s in [
        &[0x80u8][..],
        &[0xE2, 0x82],
        &[0xC0, 0xAF],
        &[0xED, 0xA0, 0x80],
    ] {
        let mut doc = vec![b'"'];
        doc.extend_from_slice(s);
        doc.push(b'"');
        bad(&doc);
    }
}

#[test]
fn rejects_bad_numbers_and_literals() {
    for doc in [
        "01", "-01", "00", "+1", "-", "1.", ".5", "1.e3", "1e", "1e+", "--1", "0x10", "1_000",
        "NaN", "Infinity", "tru", "True", "nul", "nulll", "falsey",
    ] {
        bad(doc.as_bytes());
    }
}

#[test]
fn rejects_structural_errors_and_trailing_garbage() {
    for doc in [
        "",
        " ",
        "{",
        "}",
        "[",
        "]",
        "{]",
        "[}",
        r#"{"a"}"#,
        r#"{"a":}"#,
        r#"{"a":1,}"#,
        "[1,]",
        "[,1]",
        r#"{,"a":1}"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        r#"{1:1}"#,
        "[1 2]",
        "{} {}",
        "1 2",
        "{}x",
        "[]]",
        r#"{"a":1}}"#,
        "\"a\" \"b\"",
        "{}\0",
    ] {
        bad(doc.as_bytes());
    }
}

#[test]
fn depth_is_measured_and_bounded() {
    assert_eq!(validate(b"1").unwrap().depth, 0);
    assert_eq!(validate(b"{}").unwrap().depth, 1);
    assert_eq!(validate(br#"{"a":[1]}"#).unwrap().depth, 2);
    assert_eq!(validate(br#"[{"a":{}}, 1]"#).unwrap().depth, 3);
    let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(
        validate(nest(MAX_DEPTH).as_bytes()).unwrap().depth,
        MAX_DEPTH
    );
    assert_eq!(
        validate(nest(MAX_DEPTH + 1).as_bytes()),
        Err(Error::JsonTooDeep)
    );
    // A huge nesting fails fast on depth and does not recurse.
    assert_eq!(
        validate("[".repeat(100_000).as_bytes()),
        Err(Error::JsonTooDeep)
    );
    let objects = |n: usize| format!("{}1{}", r#"{"k":"#.repeat(n), "}".repeat(n));
    assert_eq!(
        validate(objects(MAX_DEPTH).as_bytes()).unwrap().depth,
        MAX_DEPTH
    );
    assert_eq!(
        validate(objects(MAX_DEPTH + 1).as_bytes()),
        Err(Error::JsonTooDeep)
    );
}

#[test]
fn integers_at_and_beyond_the_limits() {
    let two53 = 1u64 << 53;
    assert_eq!(parse_u64(b"9007199254740992"), Ok(two53));
    assert_eq!(parse_u64(b"9007199254740993"), Ok(two53 + 1));
    assert_eq!(parse_i64(b"-9007199254740992"), Ok(-(two53 as i64)));
    assert_eq!(parse_i64(b"9223372036854775807"), Ok(i64::MAX));
    assert_eq!(parse_i64(b"-9223372036854775808"), Ok(i64::MIN));
    assert_eq!(
        parse_i64(b"9223372036854775808"),
        Err(Error::UnexpectedJson)
    );
    assert_eq!(
        parse_i64(b"-9223372036854775809"),
        Err(Error::UnexpectedJson)
    );
    assert_eq!(parse_u64(b"18446744073709551615"), Ok(u64::MAX));
    assert_eq!(
        parse_u64(b"18446744073709551616"),
        Err(Error::UnexpectedJson)
    );
    assert_eq!(
        parse_u64(b"99999999999999999999999999"),
        Err(Error::UnexpectedJson)
    );
    assert_eq!(parse_u64(b"0"), Ok(0));
    assert_eq!(parse_i64(b"-0"), Ok(0));
    for not_int in [
        "-1", "1.0", "1e3", "1E0", "01", "", "-", "\"1\"", "true", "null", "- 1", "--1",
    ] {
        assert_eq!(
            parse_u64(not_int.as_bytes()),
            Err(Error::UnexpectedJson),
            "{not_int}"
        );
    }
    for not_int in ["1.5", "-1e2", "-01", "-"] {
        assert_eq!(
            parse_i64(not_int.as_bytes()),
            Err(Error::UnexpectedJson),
            "{not_int}"
        );
    }
    // All of these are valid JSON numbers nonetheless.
    for n in [
        "9007199254740993",
        "-9223372036854775809",
        "1e400",
        "-1.5E-300",
        "123456789012345678901234567890",
    ] {
        ok(n);
    }
}

#[test]
fn lookup_returns_sub_slices_of_the_input() {
    let doc = br#" {"state":{"desired":{"led":"on","n":[1,{"x":2}]},"reported":{"led":"off"}},
        "metadata":{"desired":{"led":{"timestamp":1}}},"version":42,"clientToken":"1f"} "#;
    let [desired, reported, version, token, missing, whole] = lookup(
        doc,
        [
            &["state", "desired"],
            &["state", "reported"],
            &["version"],
            &["clientToken"],
            &["state", "delta"],
            &[],
        ],
    )
    .unwrap();
    assert_eq!(desired, Some(&br#"{"led":"on","n":[1,{"x":2}]}"#[..]));
    assert_eq!(reported, Some(&br#"{"led":"off"}"#[..]));
    assert_eq!(version.map(parse_u64), Some(Ok(42)));
    assert_eq!(token.and_then(json::string_contents), Some(&b"1f"[..]));
    assert_eq!(missing, None);
    assert_eq!(whole.map(<[u8]>::len), Some(doc.len() - 2));
    // Zero copy: the slices point into the input.
    let range = doc.as_ptr_range();
    assert!(range.contains(&desired.unwrap().as_ptr()));

    // Same-named keys at other depths or inside arrays do not match.
    let doc = br#"{"a":{"version":1},"list":[{"version":2}],"version":3}"#;
    assert_eq!(find(doc, &["version"]), Ok(Some(&b"3"[..])));
    assert_eq!(find(doc, &["a", "version"]), Ok(Some(&b"1"[..])));
    assert_eq!(find(doc, &["list", "version"]), Ok(None));
    assert_eq!(find(doc, &["version", "x"]), Ok(None));
    // Escaped keys match their decoded name; the first duplicate wins.
    assert_eq!(
        find(br#"{"\u0024version":7}"#, &["$version"]),
        Ok(Some(&b"7"[..]))
    );
    assert_eq!(find(br#"{"k":1,"k":2}"#, &["k"]), Ok(Some(&b"1"[..])));
    // A document that is not an object has no members, and a path into a
    // scalar finds nothing.
    assert_eq!(find(b"[1]", &["a"]), Ok(None));
    assert_eq!(find(br#"{"a":1}"#, &["a", "b"]), Ok(None));
    // The whole document is validated even when the value came early.
    assert_eq!(find(br#"{"a":1,"b":}"#, &["a"]), Err(Error::InvalidJson));
    assert_eq!(find(br#"{"a":1} x"#, &["a"]), Err(Error::InvalidJson));
}

#[test]
fn members_list_top_level_keys() {
    let doc = br#"{"a":1,"b":{"c":[1,2]},"d\n":"x","e":[]}"#;
    let got: Vec<Member<'_>> = members(doc).collect::<Result<_, _>>().unwrap();
    let keys: Vec<&[u8]> = got.iter().map(|m| m.key).collect();
    assert_eq!(keys, [&b"a"[..], b"b", br"d\n", b"e"]);
    assert_eq!(got[1].value, br#"{"c":[1,2]}"#);
    assert_eq!(got[3].value, b"[]");
    assert_eq!(members(b"{}").count(), 0);
    assert_eq!(members(b"[1]").next(), Some(Err(Error::UnexpectedJson)));
    let tail: Vec<_> = members(br#"{"a":1} 2"#).collect();
    assert_eq!(
        tail,
        [
            Ok(Member {
                key: b"a",
                value: b"1"
            }),
            Err(Error::InvalidJson)
        ]
    );
    assert_eq!(members(br#"{"a":"#).last(), Some(Err(Error::InvalidJson)));
}

#[test]
fn scanner_tokens_carry_offsets() {
    let doc = br#"{"k":[1,"s"]}"#;
    let mut s = Scanner::new(doc);
    let mut toks = Vec::new();
    while let Some(t) = s.next_token().unwrap() {
        toks.push(t);
    }
    assert_eq!(
        toks,
        [
            Token::ObjectStart { at: 0 },
            Token::Key { raw: b"k", at: 2 },
            Token::ArrayStart { at: 5 },
            Token::Scalar { raw: b"1", at: 6 },
            Token::Scalar {
                raw: b"\"s\"",
                at: 8
            },
            Token::ArrayEnd { at: 11 },
            Token::ObjectEnd { at: 12 },
        ]
    );
    // After an error the scanner keeps failing.
    let mut s = Scanner::new(b"[x]");
    assert!(s.next_token().is_ok());
    assert_eq!(s.next_token(), Err(Error::InvalidJson));
    assert_eq!(s.next_token(), Err(Error::InvalidJson));
}

/// Every prefix and many one-byte mutations of valid documents: no panic,
/// the only errors are JSON errors, and every strict prefix of an object or
/// array document is invalid.
#[test]
fn fuzz_truncations_and_mutations_never_panic() {
    let docs: [&[u8]; 5] = [
        br#"{"state":{"reported":{"a":1.5e3,"b":[true,false,null],"c":"\u00e9\uD83D\uDE00\n"}},"version":9007199254740993,"clientToken":"1f"}"#,
        br#"{"desired":{"fw":{"url":"https://x/y?z=1","size":-12},"$version":4},"reported":{"$version":2}}"#,
        br#"[[[[{"deep":[{"x":"y"}]}]]],-0.0,"\"\\\/\b\f\r\t"]"#,
        "{\"h\u{e9}\":\"\u{4e16}\u{754c}\",\"e\":[]}".as_bytes(),
        br#"{"code":400,"message":"Invalid JSON","timestamp":1,"clientToken":"a"}"#,
    ];
    const BYTES: [u8; 24] = [
        0, b' ', b'"', b'\\', b'{', b'}', b'[', b']', b':', b',', b'0', b'1', b'-', b'.', b'e',
        b'+', b'u', b'D', b'n', b't', 0x7F, 0x80, 0xC3, 0xFF,
    ];
    let check = |doc: &[u8]| {
        let v = validate(doc);
        assert!(
            matches!(v, Ok(_) | Err(Error::InvalidJson) | Err(Error::JsonTooDeep)),
            "{v:?}"
        );
        // Same verdict as a reference parser (the documents are shallow).
        let reference = serde_json::from_slice::<serde_json::Value>(doc).is_ok();
        assert_eq!(v.is_ok(), reference, "{:?}", String::from_utf8_lossy(doc));
        let l = lookup(doc, [&["state", "reported"], &["version"], &[]]);
        assert_eq!(l.is_ok(), v.is_ok());
        if let Ok([a, b, whole]) = l {
            for part in [a, b].into_iter().flatten() {
                assert!(validate(part).is_ok(), "a found value is itself valid JSON");
            }
            assert!(whole.is_some());
            let _ = b.map(parse_u64);
            let _ = b.map(parse_i64);
        }
        for m in members(doc).flatten() {
            let mut buf = [0u8; 256];
            let _ = unescape(m.key, &mut buf);
        }
        v
    };
    let mut checked = 0usize;
    for doc in docs {
        assert!(check(doc).is_ok());
        for cut in 0..doc.len() {
            assert!(
                check(&doc[..cut]).is_err(),
                "a strict prefix of a container is invalid: {cut}"
            );
            checked += 1;
        }
        let mut m = doc.to_vec();
        for i in 0..doc.len() {
            for b in BYTES {
                m[i] = b;
                let _ = check(&m);
                checked += 1;
            }
            // Deletion of byte i.
            let mut d = doc.to_vec();
            d.remove(i);
            let _ = check(&d);
            m[i] = doc[i];
        }
    }
    assert!(checked > 5_000);
}
