//! Bytes to text the way YAML readers detect an encoding: a byte-order
//! mark selects UTF-8, UTF-16 or UTF-32 (what `kubectl config view --raw >
//! config` writes in Windows PowerShell 5 is UTF-16 with a BOM); without
//! one the text is UTF-8.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not {encoding} text (invalid at byte {offset})")]
pub struct DecodeError {
    pub encoding: &'static str,
    pub offset: usize,
}

pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    // UTF-32LE's mark begins with UTF-16LE's: test the longer one first.
    match bytes {
        [0xFF, 0xFE, 0, 0, rest @ ..] => utf32(rest, "UTF-32LE", 4, u32::from_le_bytes),
        [0, 0, 0xFE, 0xFF, rest @ ..] => utf32(rest, "UTF-32BE", 4, u32::from_be_bytes),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, "UTF-16LE", u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, "UTF-16BE", u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest, 3),
        _ => utf8(bytes, 0),
    }
}

fn utf8(bytes: &[u8], skipped: usize) -> Result<Cow<'_, str>, DecodeError> {
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| DecodeError {
            encoding: "UTF-8",
            offset: skipped + e.valid_up_to(),
        })
}

fn utf16(
    bytes: &[u8],
    encoding: &'static str,
    unit: fn([u8; 2]) -> u16,
) -> Result<Cow<'static, str>, DecodeError> {
    let bad = |offset| DecodeError { encoding, offset };
    if bytes.len() % 2 != 0 {
        return Err(bad(2 + bytes.len() - 1));
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        text.push(c.map_err(|_| bad(2 + 2 * i))?);
    }
    Ok(Cow::Owned(text))
}

fn utf32(
    bytes: &[u8],
    encoding: &'static str,
    mark: usize,
    unit: fn([u8; 4]) -> u32,
) -> Result<Cow<'static, str>, DecodeError> {
    let bad = |offset| DecodeError { encoding, offset };
    if bytes.len() % 4 != 0 {
        return Err(bad(mark + bytes.len() - bytes.len() % 4));
    }
    bytes
        .chunks_exact(4)
        .enumerate()
        .map(|(i, quad)| {
            char::from_u32(unit([quad[0], quad[1], quad[2], quad[3]])).ok_or(bad(mark + 4 * i))
        })
        .collect::<Result<String, _>>()
        .map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "kind: Config\nname: é日本🚀\n";

    #[test]
    fn every_byte_order_mark_is_decoded() {
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(TEXT.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(TEXT.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let utf32le: Vec<u8> = [0xFF, 0xFE, 0, 0]
            .into_iter()
            .chain(TEXT.chars().flat_map(|c| (c as u32).to_le_bytes()))
            .collect();
        let utf32be: Vec<u8> = [0, 0, 0xFE, 0xFF]
            .into_iter()
            .chain(TEXT.chars().flat_map(|c| (c as u32).to_be_bytes()))
            .collect();
        let utf8_bom: Vec<u8> = [0xEF, 0xBB, 0xBF].into_iter().chain(TEXT.bytes()).collect();
        for bytes in [
            utf16le,
            utf16be,
            utf32le,
            utf32be,
            utf8_bom,
            TEXT.as_bytes().to_vec(),
        ] {
            assert_eq!(decode(&bytes).unwrap(), TEXT, "{:x?}", &bytes[..4]);
        }
    }

    #[test]
    fn broken_text_names_the_encoding_and_offset() {
        assert_eq!(
            decode(b"ok: \xff\n").unwrap_err(),
            DecodeError {
                encoding: "UTF-8",
                offset: 4
            }
        );
        // A lone high surrogate.
        assert_eq!(
            decode(&[0xFF, 0xFE, b'a', 0, 0x00, 0xD8])
                .unwrap_err()
                .offset,
            4
        );
        // An odd number of UTF-16 bytes.
        assert_eq!(
            decode(&[0xFE, 0xFF, 0, b'a', 0]).unwrap_err().encoding,
            "UTF-16BE"
        );
        // Beyond U+10FFFF.
        assert!(decode(&[0, 0, 0xFE, 0xFF, 0, 0x11, 0, 0]).is_err());
    }
}
