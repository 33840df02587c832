//! Each cloud's rules for shadow/twin documents, applied before sending.

use super::json::{self, Scanner, Token};
use crate::cloud::Cloud;
use crate::writer::TextWriter as Out;
use crate::{Error, Result};

/// AWS: largest shadow update document in bytes (8 KB), counted on the
/// whole `{"state":{"reported":..},"clientToken":".."}` that is sent.
pub const AWS_MAX_DOCUMENT: usize = 8 * 1024;
/// AWS: deepest shadow document, counted on the whole document sent (the
/// `state` and `reported` wrappers take two levels, so a reported patch may
/// nest 4 deep: `{"a":{"b":{"c":{}}}}`).
pub const AWS_MAX_DEPTH: usize = 6;
/// AWS: most shadow requests in flight on one connection.
pub const AWS_MAX_IN_FLIGHT: usize = 10;
/// AWS: longest `clientToken`.
pub const AWS_MAX_CLIENT_TOKEN: usize = 64;

/// Azure: largest reported patch (and desired or reported section of a
/// received twin), 32 KB.
pub const AZURE_MAX_SECTION: usize = 32 * 1024;
/// Azure: deepest reported patch, counting the patch object itself as
/// level 1 (`{"a":{}}` has depth 2). This is at most one level stricter
/// than the hub, which does not count the root object.
pub const AZURE_MAX_DEPTH: usize = 10;
/// Azure: longest property name in bytes (UTF-8, escapes decoded).
pub const AZURE_MAX_NAME: usize = 1024;

/// Most shadow/twin requests `cloud` allows in flight at once.
pub const fn max_in_flight(cloud: Cloud) -> usize {
    match cloud {
        #[cfg(feature = "aws")]
        Cloud::Aws => AWS_MAX_IN_FLIGHT,
        #[cfg(feature = "azure")]
        Cloud::Azure => usize::MAX,
    }
}

/// What to do with a space in an Azure property name (the hub refuses
/// them). AWS accepts any name, so this applies to Azure only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SpacePolicy {
    /// Refuse the patch with [`Error::InvalidPropertyName`].
    #[default]
    Reject,
    /// Send the patch with the spaces removed from every name (`"fan speed"`
    /// becomes `"fanspeed"`); a name made only of spaces is still refused.
    /// Two names that become equal are not detected.
    Remove,
}

/// What [`check_azure_patch`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AzurePatch {
    /// Length of the patch as it will be sent (spaces removed from names).
    pub len: usize,
    /// Whether some name has spaces to remove.
    pub rewrite: bool,
}

/// Validates an Azure reported patch in one pass: valid JSON, an object, at
/// most [`AZURE_MAX_DEPTH`] deep, every name at every level legal (see
/// [`check_azure_name`]). Size is left to the caller.
pub(crate) fn check_azure_patch(patch: &[u8], spaces: SpacePolicy) -> Result<AzurePatch> {
    let mut s = Scanner::new(patch);
    if !matches!(s.next_token()?, Some(Token::ObjectStart { .. })) {
        // Drain to report malformed JSON before the wrong shape.
        while s.next_token()?.is_some() {}
        return Err(Error::UnexpectedJson);
    }
    let mut removed = 0usize;
    while let Some(tok) = s.next_token()? {
        if s.max_depth() > AZURE_MAX_DEPTH {
            return Err(Error::JsonTooDeep);
        }
        if let Token::Key { raw, .. } = tok {
            removed += check_azure_name(raw, spaces)?;
        }
    }
    Ok(AzurePatch {
        len: patch.len() - removed,
        rewrite: removed > 0,
    })
}

/// Checks one raw (escaped) property name against the hub's rules: not
/// empty, at most [`AZURE_MAX_NAME`] bytes, no `.`, `$` or control
/// character (C0, DEL, C1), no space unless `spaces` removes them.
/// Returns how many raw bytes the removal of spaces saves.
pub(crate) fn check_azure_name(raw: &[u8], spaces: SpacePolicy) -> Result<usize> {
    let mut len = 0usize;
    let mut had_space = false;
    for c in json::raw_key_chars(raw) {
        match c? {
            ' ' if spaces == SpacePolicy::Remove => had_space = true,
            '.' | '$' | ' ' => return Err(Error::InvalidPropertyName),
            c if c.is_control() => return Err(Error::InvalidPropertyName),
            c => len += c.len_utf8(),
        }
    }
    if len == 0 || len > AZURE_MAX_NAME {
        return Err(Error::InvalidPropertyName);
    }
    if !had_space {
        return Ok(0);
    }
    let mut kept = 0usize;
    for_each_kept(raw, |part| {
        kept += part.len();
        Ok(())
    })?;
    Ok(raw.len() - kept)
}

/// Calls `f` with the runs of a raw name that stay when spaces (literal or
/// `\u0020`) are removed; other escapes are kept as written.
fn for_each_kept(raw: &[u8], mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let mut i = 0;
    let mut run = 0;
    while let Some(&b) = raw.get(i) {
        let (step, space) = match b {
            b' ' => (1, true),
            b'\\' => match raw.get(i + 1) {
                Some(b'u') => (6, raw.get(i + 2..i + 6) == Some(b"0020")),
                Some(_) => (2, false),
                None => return Err(Error::InvalidJson),
            },
            _ => (1, false),
        };
        if space {
            f(raw.get(run..i).ok_or(Error::InvalidJson)?)?;
            run = i + step;
        }
        i += step;
    }
    f(raw.get(run..).ok_or(Error::InvalidJson)?)
}

/// Writes an Azure patch already checked by [`check_azure_patch`], removing
/// spaces from names when `rewrite` is set.
pub(crate) fn write_azure_patch(patch: &[u8], rewrite: bool, out: &mut Out<'_>) -> Result<()> {
    if !rewrite {
        return out.push(patch);
    }
    let mut s = Scanner::new(patch);
    let mut copied = 0;
    while let Some(tok) = s.next_token()? {
        if let Token::Key { raw, at } = tok {
            out.push(patch.get(copied..at).ok_or(Error::InvalidJson)?)?;
            for_each_kept(raw, |part| out.push(part))?;
            copied = at + raw.len();
        }
    }
    out.push(patch.get(copied..).ok_or(Error::InvalidJson)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_space_counts_as_space() {
        assert_eq!(check_azure_name(br"a\u0020b", SpacePolicy::Remove), Ok(6));
        assert_eq!(
            check_azure_name(br"a\u0020b", SpacePolicy::Reject),
            Err(Error::InvalidPropertyName)
        );
        assert_eq!(
            check_azure_name(br"a\u0024", SpacePolicy::Remove),
            Err(Error::InvalidPropertyName)
        );
        let mut buf = [0u8; 32];
        let mut out = Out::new(&mut buf);
        write_azure_patch(br#"{"a\u0020b c":1,"\"x ":2}"#, true, &mut out).unwrap();
        let n = out.len();
        assert_eq!(&buf[..n], br#"{"abc":1,"\"x":2}"#);
    }
}
