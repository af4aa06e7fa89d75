//! Parsing sizes such as `100M`, `4G`, `1GiB` or `12345`.

/// Parses a size in bytes with an optional binary suffix (K, M, G, T; `iB`/`B` accepted).
pub fn parse(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        Some((i, 'T' | 't')) => (&t[..i], 40),
        _ => (t, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {s:?} (try 100M or 4G)"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("size too large: {s}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse("100M"), Ok(100 << 20));
        assert_eq!(super::parse("4GiB"), Ok(4 << 30));
        assert_eq!(super::parse("12345"), Ok(12345));
        assert_eq!(super::parse("2k"), Ok(2048));
        assert!(super::parse("x").is_err());
    }
}
