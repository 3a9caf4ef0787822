//! Spans such as "90s", "5m", "2h", "60d", "1h30m" or ISO 8601 "P60D",
//! "PT1H30M". Whole seconds; months and years are refused because their
//! length is ambiguous.
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(u64);

impl Duration {
    /// About a hundred years: longer spans are mistakes, and this keeps
    /// every sum with a timestamp far from overflow.
    pub const MAX_SECS: u64 = 100 * 365 * 86_400;

    /// For constants known to be in range.
    pub const fn from_secs_const(secs: u64) -> Duration {
        assert!(secs > 0 && secs <= Self::MAX_SECS);
        Duration(secs)
    }

    pub fn from_secs(secs: u64) -> Result<Duration, String> {
        if secs == 0 {
            Err("must be longer than zero".into())
        } else if secs > Self::MAX_SECS {
            Err("must be at most 100 years".into())
        } else {
            Ok(Duration(secs))
        }
    }

    pub fn parse(raw: &str) -> Result<Duration, String> {
        let text = raw.trim();
        let secs = if let Some(iso) = text.strip_prefix(['P', 'p']) {
            parse_iso(iso)
        } else {
            parse_units(text, |unit| match unit {
                's' => Some(1),
                'm' => Some(60),
                'h' => Some(3_600),
                'd' => Some(86_400),
                'w' => Some(604_800),
                _ => None,
            })
        }
        .ok_or_else(|| {
            format!("{raw:?} is not a duration; use forms like \"90s\", \"5m\", \"2h\", \"60d\" or \"P60D\"")
        })?;
        Duration::from_secs(secs)
    }

    pub fn as_secs(self) -> u64 {
        self.0
    }

    pub fn as_timedelta(self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(self.0 as i64)
    }
}

/// Short form, largest whole unit: 60d, 2h, 5m, 90s.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        match () {
            _ if s.is_multiple_of(86_400) => write!(f, "{}d", s / 86_400),
            _ if s.is_multiple_of(3_600) => write!(f, "{}h", s / 3_600),
            _ if s.is_multiple_of(60) => write!(f, "{}m", s / 60),
            _ => write!(f, "{s}s"),
        }
    }
}

/// `<n><unit>` repeated, units strictly from larger to smaller.
fn parse_units(text: &str, unit_secs: impl Fn(char) -> Option<u64>) -> Option<u64> {
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut last_unit = u64::MAX;
    let mut any = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let secs = unit_secs(c.to_ascii_lowercase())?;
        if number.is_empty() || secs >= last_unit {
            return None;
        }
        total = total.checked_add(number.parse::<u64>().ok()?.checked_mul(secs)?)?;
        number.clear();
        last_unit = secs;
        any = true;
    }
    (any && number.is_empty()).then_some(total)
}

fn parse_iso(text: &str) -> Option<u64> {
    let upper = text.to_ascii_uppercase();
    let (date, time) = match upper.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date.to_owned(), Some(time.to_owned())),
        Some(_) => return None,
        None => (upper, None),
    };
    let mut total = 0u64;
    if !date.is_empty() {
        total += parse_units(&date, |u| match u {
            'w' => Some(604_800),
            'd' => Some(86_400),
            _ => None,
        })?;
    }
    if let Some(time) = time {
        total = total.checked_add(parse_units(&time, |u| match u {
            'h' => Some(3_600),
            'm' => Some(60),
            's' => Some(1),
            _ => None,
        })?)?;
    }
    (!date.is_empty() || total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::Duration;

    #[test]
    fn parses_short_and_iso_forms_and_prints_short() {
        for (input, secs, printed) in [
            ("90s", 90, "90s"),
            ("5m", 300, "5m"),
            ("2h", 7_200, "2h"),
            ("60d", 5_184_000, "60d"),
            ("1h30m", 5_400, "90m"),
            ("P60D", 5_184_000, "60d"),
            ("PT1H30M", 5_400, "90m"),
            ("P1DT12H", 129_600, "36h"),
            ("P2W", 1_209_600, "14d"),
            (" 30m ", 1_800, "30m"),
        ] {
            let d = Duration::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(d.as_secs(), secs, "{input}");
            assert_eq!(d.to_string(), printed, "{input}");
        }
    }

    #[test]
    fn refuses_nonsense() {
        for bad in [
            "",
            "0s",
            "10",
            "m",
            "5x",
            "5m5h",
            "P",
            "PT",
            "P1M",
            "P1Y",
            "-5m",
            "1.5h",
            "99999999999999999999s",
            "P1D1H",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Duration::parse("36501d").is_err());
    }
}
