//! The naming rules of each cloud: thing, shadow, device and module names,
//! client ids and request ids.

use crate::{Error, Result};

/// Longest AWS thing name, in bytes.
pub const AWS_MAX_THING_NAME: usize = 128;
/// Longest AWS named-shadow name, in bytes.
pub const AWS_MAX_SHADOW_NAME: usize = 64;
/// Longest AWS MQTT client id, in bytes.
pub const AWS_MAX_CLIENT_ID: usize = 128;
/// Longest Azure device or module id, in bytes.
pub const AZURE_MAX_ID: usize = 128;

/// `[a-zA-Z0-9:_-]`: the bytes of AWS thing and shadow names.
#[inline]
const fn is_aws_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-')
}

fn check_aws_name(name: &str, max: usize) -> Result<()> {
    if name.is_empty() || name.len() > max || !name.bytes().all(is_aws_name_byte) {
        return Err(Error::InvalidName);
    }
    Ok(())
}

/// Checks an AWS thing name: 1–128 bytes of `[a-zA-Z0-9:_-]`.
pub fn check_thing_name(name: &str) -> Result<()> {
    check_aws_name(name, AWS_MAX_THING_NAME)
}

/// Checks an AWS named-shadow name: 1–64 bytes of `[a-zA-Z0-9:_-]`.
pub fn check_shadow_name(name: &str) -> Result<()> {
    check_aws_name(name, AWS_MAX_SHADOW_NAME)
}

/// Checks an AWS MQTT client id: 1–128 bytes.
pub fn check_aws_client_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > AWS_MAX_CLIENT_ID {
        return Err(Error::InvalidName);
    }
    Ok(())
}

/// Checks an Azure device or module id: 1–128 bytes of ASCII letters,
/// digits and `- . % _ * ? ! ( ) , : = @ $ '`. Azure also allows `+` and
/// `#`, which are MQTT wildcards and cannot appear in a topic name, so they
/// are refused here.
pub fn check_azure_id(id: &str) -> Result<()> {
    let ok = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'%'
                    | b'_'
                    | b'*'
                    | b'?'
                    | b'!'
                    | b'('
                    | b')'
                    | b','
                    | b':'
                    | b'='
                    | b'@'
                    | b'$'
                    | b'\''
            )
    };
    if id.is_empty() || id.len() > AZURE_MAX_ID || !id.bytes().all(ok) {
        return Err(Error::InvalidName);
    }
    Ok(())
}

/// Longest request id (`$rid`) accepted, in bytes.
pub const MAX_RID_LEN: usize = 64;

/// The one rule for a request id in an Azure topic (`$rid`), received or sent:
/// 1–64 bytes of `A-Z a-z 0-9 - _ . ~`, so it needs no encoding in the
/// query string. AWS carries it as the `clientToken` (also ≤ 64 bytes).
pub fn check_rid(rid: &str) -> Result<()> {
    if rid.is_empty() || rid.len() > MAX_RID_LEN {
        return Err(Error::InvalidArgument);
    }
    for &b in rid.as_bytes() {
        if !super::percent::is_unreserved(b) {
            return Err(Error::InvalidArgument);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thing_names_follow_aws_rules() {
        assert_eq!(check_thing_name("Sensor_01:a-b"), Ok(()));
        assert_eq!(check_thing_name(&"a".repeat(128)), Ok(()));
        for bad in ["", "a b", "a/b", "a.b", "a$", "é"] {
            assert_eq!(check_thing_name(bad), Err(Error::InvalidName), "{bad}");
        }
        assert_eq!(check_thing_name(&"a".repeat(129)), Err(Error::InvalidName));
    }

    #[test]
    fn shadow_names_are_at_most_64() {
        assert_eq!(check_shadow_name(&"s".repeat(64)), Ok(()));
        assert_eq!(check_shadow_name(&"s".repeat(65)), Err(Error::InvalidName));
        assert_eq!(check_shadow_name("a/b"), Err(Error::InvalidName));
    }

    #[test]
    fn client_ids_are_at_most_128_bytes() {
        assert_eq!(check_aws_client_id(&"c".repeat(128)), Ok(()));
        assert_eq!(
            check_aws_client_id(&"c".repeat(129)),
            Err(Error::InvalidName)
        );
        assert_eq!(check_aws_client_id(""), Err(Error::InvalidName));
    }

    #[test]
    fn azure_ids_allow_documented_specials_but_no_wildcards() {
        assert_eq!(check_azure_id("dev-1.a%_*?!(),:=@$'"), Ok(()));
        for bad in ["", "a/b", "a+b", "a#b", "a b", "é"] {
            assert_eq!(check_azure_id(bad), Err(Error::InvalidName), "{bad}");
        }
        assert_eq!(check_azure_id(&"d".repeat(129)), Err(Error::InvalidName));
    }

    #[test]
    fn rids_must_need_no_encoding() {
        assert_eq!(check_rid("a1-_.~"), Ok(()));
        for bad in ["", "a&b", "a=b", "a b"] {
            assert_eq!(check_rid(bad), Err(Error::InvalidArgument), "{bad}");
        }
    }
}
