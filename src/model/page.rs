//! Relay-style page requests with opaque cursors.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{Error, Result};

pub(crate) const MAX_PAGE: i32 = 100;

#[derive(Clone, Debug)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn new(first: i32, after: Option<&str>) -> Result<PageRequest> {
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(Error::bad_input(
                "first",
                format!("must be between 0 and {MAX_PAGE}"),
            ));
        }
        let after = after.map(decode_cursor).transpose()?;
        Ok(PageRequest {
            first: first as u64,
            after,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    /// The request started after a cursor, so items come before this page.
    pub has_previous: bool,
    /// Counted only for connections that expose `totalCount`.
    pub total: Option<u64>,
}

impl<T> Page<T> {
    pub fn try_map<U>(self, f: impl FnMut(T) -> Result<U>) -> Result<Page<U>> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_>>()?,
            has_next: self.has_next,
            has_previous: self.has_previous,
            total: self.total,
        })
    }
}

const CURSOR_PREFIX: &[u8] = b"c1:";

pub fn encode_cursor(id: Uuid) -> String {
    let mut raw = CURSOR_PREFIX.to_vec();
    raw.extend_from_slice(id.as_bytes());
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn decode_cursor(cursor: &str) -> Result<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| raw.strip_prefix(CURSOR_PREFIX).map(<[u8]>::to_vec))
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| Error::bad_input("after", "not a cursor returned by this API"))
}

const KEY_CURSOR_PREFIX: &str = "k1:";

/// Cursors over KV keys, which order the KV store's pages.
pub fn encode_key_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{KEY_CURSOR_PREFIX}{key}"))
}

pub fn decode_key_cursor(cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.strip_prefix(KEY_CURSOR_PREFIX).map(str::to_owned))
        .ok_or_else(|| Error::bad_input("after", "not a cursor returned by this API"))
}
