//! One-line JSON objects with correct string escaping (RFC 8259 §7).

/// A JSON object being built, member by member.
pub struct Json {
    text: String,
    empty: bool,
}

impl Json {
    /// `{`.
    pub fn object() -> Json {
        Json {
            text: String::from("{"),
            empty: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.text.push(',');
        }
        self.empty = false;
        escape_into(&mut self.text, key);
        self.text.push(':');
    }

    /// A string member.
    pub fn str(mut self, key: &str, value: &str) -> Json {
        self.key(key);
        escape_into(&mut self.text, value);
        self
    }

    /// A number member.
    pub fn num(mut self, key: &str, value: u64) -> Json {
        self.key(key);
        self.text.push_str(&value.to_string());
        self
    }

    /// A `null` member.
    pub fn null(mut self, key: &str) -> Json {
        self.key(key);
        self.text.push_str("null");
        self
    }

    /// A member whose value is already JSON.
    pub fn raw(mut self, key: &str, json: &str) -> Json {
        self.key(key);
        self.text.push_str(json);
        self
    }

    /// `}`: the finished object.
    pub fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

/// Appends `s` as a JSON string literal.
fn escape_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let json = Json::object()
            .str("a\"b", "x\\y\n\u{1}é")
            .num("n", 5)
            .null("z")
            .finish();
        assert_eq!(json, r#"{"a\"b":"x\\y\n\u0001é","n":5,"z":null}"#);
        assert_eq!(Json::object().finish(), "{}");
    }
}
