//! `multipart/form-data` bodies decoded as MAAS decodes them (Django's `MultiPartParser`):
//!
//! * an empty body, and parts without headers (the one empty part Python's `email` package
//!   writes for a multipart message without parameters, as libmaas and the MAAS CLI send for
//!   `commission` or `release`), give no parameters;
//! * parts without a `name`, and file parts (`filename=`), are not form parameters;
//! * a `Content-Transfer-Encoding: base64` part is decoded leniently like Python's
//!   `base64.b64decode`: line breaks and other characters outside the alphabet are skipped, and a
//!   value that still does not decode is kept as sent;
//! * values are UTF-8 (invalid sequences replaced);
//! * strict where Django is strict: a missing or invalid boundary, and more than
//!   [`MAX_FIELDS`] parameters, are refused (400).

use base64::Engine;

use super::reply::{Reply, text};

/// Django's `DATA_UPLOAD_MAX_NUMBER_FIELDS` default.
pub(crate) const MAX_FIELDS: usize = 1000;

/// The `boundary` parameter of a multipart content type, unquoted.
fn boundary(ctype: &str) -> Option<&str> {
    ctype.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// Django's (the `cgi` module's) boundary check: 1 to 201 printable ASCII characters, the last
/// not a space.
fn valid_boundary(b: &str) -> bool {
    !b.is_empty()
        && b.len() <= 201
        && b.bytes().all(|c| (b' '..=b'~').contains(&c))
        && !b.ends_with(' ')
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The value of parameter `key` in a header value such as `form-data; name="x"`.
fn header_param<'a>(value: &'a str, key: &str) -> Option<&'a str> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"'))
    })
}

/// Decodes a base64 part like Python's non-validating `base64.b64decode`; `None` when it does
/// not decode (Django then keeps the raw bytes).
fn lenient_base64(data: &[u8]) -> Option<Vec<u8>> {
    let alphabet: Vec<u8> = data
        .iter()
        .copied()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(alphabet)
        .ok()
}

/// One part: its headers (lower-cased names) and body.
fn split_part(part: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    // No headers at all: the part starts with its blank line (or is empty).
    for blank in [&b"\r\n"[..], b"\n"] {
        if part.starts_with(blank) {
            return (Vec::new(), &part[blank.len()..]);
        }
    }
    let (head, body) = match (find(part, b"\r\n\r\n"), find(part, b"\n\n")) {
        (Some(a), Some(b)) if b < a => (&part[..b], &part[b + 2..]),
        (Some(a), _) => (&part[..a], &part[a + 4..]),
        (None, Some(b)) => (&part[..b], &part[b + 2..]),
        (None, None) => (part, &part[part.len()..]),
    };
    let headers = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    (headers, body)
}

/// Parses a `multipart/form-data` body of content type `ctype` into `(name, value)` pairs.
pub(crate) fn parse(ctype: &str, body: &[u8]) -> Result<Vec<(String, String)>, Reply> {
    let b = boundary(ctype).unwrap_or("");
    if !valid_boundary(b) {
        return Err(text(
            400,
            format!(
                "Invalid boundary in multipart: {}",
                if b.is_empty() { "None" } else { b }
            ),
        ));
    }
    let mut fields = Vec::new();
    if body.is_empty() {
        return Ok(fields);
    }
    let delimiter = format!("--{b}");
    let Some(first) = find(body, delimiter.as_bytes()) else {
        // Only a preamble: no parts, no parameters.
        return Ok(fields);
    };
    let mut rest = &body[first + delimiter.len()..];
    // At most one part per delimiter; the bound also stops a part list without end.
    for _ in 0..=MAX_FIELDS {
        if rest.starts_with(b"--") {
            return Ok(fields);
        }
        // The delimiter line ends with optional blanks and a line break.
        let line_end = rest
            .iter()
            .position(|&c| c == b'\n')
            .map_or(rest.len(), |i| i + 1);
        rest = &rest[line_end..];
        let (part, next) = match find(rest, format!("\n{delimiter}").as_bytes()) {
            Some(i) => {
                let end = if i > 0 && rest[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                (&rest[..end], Some(&rest[i + 1 + delimiter.len()..]))
            }
            // No closing delimiter: the part runs to the end of the body.
            None => (rest, None),
        };
        let (headers, value) = split_part(part);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let disposition = header("content-disposition").unwrap_or("");
        if let Some(name) = header_param(disposition, "name")
            && header_param(disposition, "filename").is_none()
        {
            if fields.len() == MAX_FIELDS {
                return Err(text(
                    400,
                    "The number of GET/POST parameters exceeded \
                     settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.",
                ));
            }
            let base64 = header("content-transfer-encoding")
                .is_some_and(|v| v.eq_ignore_ascii_case("base64"));
            let decoded = if base64 { lenient_base64(value) } else { None };
            let value = decoded.as_deref().unwrap_or(value);
            fields.push((name.to_owned(), String::from_utf8_lossy(value).into_owned()));
        }
        match next {
            Some(n) => rest = n,
            None => return Ok(fields),
        }
    }
    Err(text(
        400,
        "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=\"===============7330845974216740156==\"";
    const B: &str = "--===============7330845974216740156==";

    #[test]
    fn parameterless_posts_have_no_fields() {
        assert_eq!(parse(CT, b"").unwrap(), []);
        // Python's email package: a multipart message without parts, lines joined with CRLF.
        let empty_part = format!("{B}\r\n\r\n{B}--");
        assert_eq!(parse(CT, empty_part.as_bytes()).unwrap(), []);
        let lf = format!("{B}\n\n{B}--\n");
        assert_eq!(parse(CT, lf.as_bytes()).unwrap(), []);
    }

    #[test]
    fn base64_parts_with_line_breaks_decode() {
        let value = "#cloud-config\nruncmd: [echo one, echo two, echo three, echo four]\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        assert!(encoded.len() > 76);
        for sep in ["\r\n", "\n"] {
            let wrapped: Vec<&str> = encoded
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let body = format!(
                "{B}{sep}Content-Type: application/octet-stream{sep}MIME-Version: 1.0{sep}\
                 Content-Transfer-Encoding: base64{sep}\
                 Content-Disposition: form-data; name=\"user_data\"{sep}{sep}{}{sep}{B}{sep}\
                 Content-Disposition: form-data; name=\"plain\"{sep}{sep}a b{sep}{B}--{sep}",
                wrapped.join(sep)
            );
            let fields = parse(CT, body.as_bytes()).unwrap();
            assert_eq!(
                fields,
                [
                    ("user_data".to_owned(), value.to_owned()),
                    ("plain".to_owned(), "a b".to_owned())
                ]
            );
        }
    }

    #[test]
    fn undecodable_base64_is_kept_and_files_and_nameless_parts_are_skipped() {
        let body = format!(
            "{B}\r\nContent-Transfer-Encoding: base64\r\n\
             Content-Disposition: form-data; name=\"x\"\r\n\r\nnot base64!\r\n{B}\r\n\
             Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nfile\r\n{B}\r\n\
             Content-Type: text/plain\r\n\r\nnameless\r\n{B}--\r\n"
        );
        assert_eq!(
            parse(CT, body.as_bytes()).unwrap(),
            [("x".to_owned(), "not base64!".to_owned())]
        );
    }

    #[test]
    fn bad_boundaries_and_too_many_fields_are_refused() {
        assert!(parse("multipart/form-data", b"x").is_err());
        assert!(parse("multipart/form-data; boundary=\"a \"", b"x").is_err());
        let mut body = String::new();
        for i in 0..=MAX_FIELDS {
            body.push_str(&format!(
                "{B}\r\nContent-Disposition: form-data; name=\"k{i}\"\r\n\r\nv\r\n"
            ));
        }
        body.push_str(&format!("{B}--\r\n"));
        assert!(parse(CT, body.as_bytes()).is_err());
    }
}
