//! The word tables lines are made of: levels (weighted), HTTP methods and resources, table
//! names, statuses, free-text words and the non-ASCII notes of unicode mode.
//!
//! All are constants built at compile time. None holds `#` (see [`crate::DEFAULT_NEEDLE`]).

use crate::format::{toks, Tok};

/// Level column, padded to 5 characters plus a separating space.
/// Index by 6 random bits: INFO 38/64, DEBUG 14/64, WARN 7/64, ERROR 3/64,
/// TRACE 2/64.
pub(crate) const LEVELS: [Tok; 64] = {
    let mut t: [&[u8]; 64] = [b"INFO  "; 64];
    let mut i = 38;
    while i < 64 {
        t[i] = if i < 52 {
            b"DEBUG "
        } else if i < 59 {
            b"WARN  "
        } else if i < 62 {
            b"ERROR "
        } else {
            b"TRACE "
        };
        i += 1;
    }
    toks(t)
};

pub(crate) const METHODS: [Tok; 8] = toks([
    b"GET", b"GET", b"GET", b"GET", b"POST", b"PUT", b"DELETE", b"PATCH",
]);

pub(crate) const RESOURCES: [Tok; 8] = toks([
    b"items",
    b"users",
    b"orders",
    b"carts",
    b"invoices",
    b"sessions",
    b"files",
    b"search",
]);

pub(crate) const TABLES: [Tok; 8] = toks([
    b"items",
    b"users",
    b"orders",
    b"events",
    b"audit_log",
    b"metrics",
    b"jobs",
    b"leases",
]);

pub(crate) const STATUSES: [&[u8; 3]; 16] = [
    b"200", b"200", b"200", b"200", b"200", b"200", b"200", b"200", b"200", b"201", b"204", b"304",
    b"400", b"404", b"429", b"500",
];

pub(crate) const WORDS: [Tok; 64] = toks([
    b"connection",
    b"reset",
    b"by",
    b"peer",
    b"retrying",
    b"upstream",
    b"timeout",
    b"after",
    b"backoff",
    b"scheduled",
    b"job",
    b"completed",
    b"queue",
    b"depth",
    b"exceeded",
    b"threshold",
    b"user",
    b"session",
    b"expired",
    b"token",
    b"refreshed",
    b"cache",
    b"evicted",
    b"shard",
    b"rebalanced",
    b"lease",
    b"acquired",
    b"checkpoint",
    b"written",
    b"snapshot",
    b"compacted",
    b"segment",
    b"flushed",
    b"to",
    b"disk",
    b"slow",
    b"request",
    b"detected",
    b"handler",
    b"panicked",
    b"recovered",
    b"config",
    b"reloaded",
    b"from",
    b"etcd",
    b"tls",
    b"handshake",
    b"failed",
    b"for",
    b"client",
    b"worker",
    b"idle",
    b"gc",
    b"pause",
    b"ms",
    b"heap",
    b"grew",
    b"the",
    b"a",
    b"and",
    b"of",
    b"in",
    b"on",
    b"with",
]);

/// Non-ASCII snippets for `unicode` mode: 2-, 3- and 4-byte UTF-8.
pub(crate) const NOTES: [&str; 16] = [
    "café",
    "naïve résumé",
    "漢字",
    "日本語のログ",
    "🦀",
    "Zürich → München",
    "crab 🦀 rust",
    "Ελληνικά",
    "Привет, мир",
    "emoji 😀🎉",
    "漢字 and 🦀",
    "ñandú",
    "½ done…",
    "한국어",
    "façade",
    "𝄞 clef",
];
