//! A conversation's culture and the CLDR formatting that follows from it
//! (ICU4X compiled data): dates, numbers, currencies, percentages and
//! plural categories. Nothing here is a hand-written locale table.
use std::fmt::Write as _;

use fixed_decimal::{Decimal, SignedRoundingMode, UnsignedRoundingMode};
use icu_calendar::{Date, Gregorian};
use icu_datetime::fieldsets::{self, MD, T, YMD, YMDE};
use icu_datetime::pattern::{DateTimePattern, FixedCalendarDateTimeNames};
use icu_datetime::{DateTimeFormatterPreferences, FixedCalendarDateTimeFormatter};
use icu_decimal::DecimalFormatter;
use icu_experimental::dimension::currency::CurrencyType;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_experimental::dimension::percent::formatter::PercentFormatter;
use icu_locale_core::Locale;
use icu_plurals::{PluralCategory, PluralRules};
use icu_time::{DateTime, Time};
use writeable::{TryWriteable, Writeable};

/// The culture a template renders in: the conversation's `culture`, else
/// the user's `locale`, else `en` (a tag that does not parse is skipped).
#[derive(Clone, Debug)]
pub struct Culture {
    tag: String,
    locale: Locale,
}

/// A calendar date, or an instant with its wall-clock time in some zone.
#[derive(Clone, Copy, Debug)]
pub struct When {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    /// None for a bare date (`2026-02-11`).
    pub time: Option<(u8, u8, u8)>,
}

impl When {
    /// A stored ISO 8601 value: a date (`2026-02-11`) or an RFC 3339
    /// timestamp, shown in `zone` (IANA name; UTC when absent). Anything
    /// else is not a date.
    pub fn parse(text: &str, zone: Option<&str>) -> Result<Option<When>, String> {
        let text = text.trim();
        let zone = match zone {
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
                format!("unknown time zone {name:?} (use an IANA name such as \"Europe/Sofia\")")
            })?,
            None => jiff::tz::TimeZone::UTC,
        };
        if let Ok(date) = text.parse::<jiff::civil::Date>()
            && text.len() == 10
        {
            return Ok(Some(When {
                year: date.year().into(),
                month: date.month() as u8,
                day: date.day() as u8,
                time: None,
            }));
        }
        let Ok(instant) = text.parse::<jiff::Timestamp>() else {
            return Ok(None);
        };
        let local = instant.to_zoned(zone).datetime();
        Ok(Some(When {
            year: local.year().into(),
            month: local.month() as u8,
            day: local.day() as u8,
            time: Some((
                local.hour() as u8,
                local.minute() as u8,
                local.second() as u8,
            )),
        }))
    }

    fn date(&self) -> Result<Date<Gregorian>, String> {
        Date::try_new_gregorian(self.year, self.month, self.day).map_err(|e| e.to_string())
    }

    fn date_time(&self) -> Result<DateTime<Gregorian>, String> {
        let (h, m, s) = self.time.unwrap_or((0, 0, 0));
        Ok(DateTime {
            date: self.date()?,
            time: Time::try_new(h, m, s, 0).map_err(|e| e.to_string())?,
        })
    }
}

/// Fraction digits of a formatted number, as in JavaScript's `Intl`.
#[derive(Clone, Copy, Debug)]
pub struct Digits {
    pub min: i16,
    pub max: i16,
}

impl Culture {
    pub fn resolve(candidates: &[Option<&str>]) -> Culture {
        candidates
            .iter()
            .flatten()
            .find_map(|tag| Culture::parse(tag))
            .unwrap_or_else(|| Culture::parse("en").expect("en is a locale"))
    }

    /// Accepts `en-GB` and `en_GB`.
    pub fn parse(tag: &str) -> Option<Culture> {
        let normalized = tag.trim().replace('_', "-");
        let locale: Locale = normalized.parse().ok()?;
        Some(Culture {
            tag: locale.to_string(),
            locale,
        })
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    fn prefs(&self) -> DateTimeFormatterPreferences {
        (&self.locale).into()
    }

    /// `style`: `short`, `medium`, `long`, `full` (a date), `dayMonth`
    /// (CLDR `MMMd`, what a bare date renders as), `time` (hours and
    /// minutes), `dateTime` (medium date and time), or any CLDR pattern
    /// such as `d MMM` or `EEEE, d MMMM y HH:mm`.
    pub fn format_date(&self, when: &When, style: &str) -> Result<String, String> {
        let fail = |e: &dyn std::fmt::Display| e.to_string();
        let date = when.date()?;
        Ok(match style {
            "dayMonth" => {
                FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new(self.prefs(), MD::medium())
                    .map_err(|e| fail(&e))?
                    .format(&date)
                    .to_string()
            }
            "short" | "medium" | "long" => {
                let fields = match style {
                    "short" => YMD::short(),
                    "medium" => YMD::medium(),
                    _ => YMD::long(),
                };
                FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new(self.prefs(), fields)
                    .map_err(|e| fail(&e))?
                    .format(&date)
                    .to_string()
            }
            "full" => {
                FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new(self.prefs(), YMDE::long())
                    .map_err(|e| fail(&e))?
                    .format(&date)
                    .to_string()
            }
            "time" => FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new(
                self.prefs(),
                T::medium().with_time_precision(icu_datetime::options::TimePrecision::Minute),
            )
            .map_err(|e| fail(&e))?
            .format(&when.date_time()?)
            .to_string(),
            "dateTime" => FixedCalendarDateTimeFormatter::<Gregorian, _>::try_new(
                self.prefs(),
                fieldsets::YMDT::medium()
                    .with_time_precision(icu_datetime::options::TimePrecision::Minute),
            )
            .map_err(|e| fail(&e))?
            .format(&when.date_time()?)
            .to_string(),
            pattern => {
                let pattern: DateTimePattern = pattern
                    .parse()
                    .map_err(|e| format!("not a date style or CLDR pattern: {e}"))?;
                let mut names = FixedCalendarDateTimeNames::<Gregorian>::try_new(self.prefs())
                    .map_err(|e| fail(&e))?;
                let formatter = names
                    .include_for_pattern(&pattern)
                    .map_err(|e| format!("cannot use this pattern: {e}"))?;
                formatter
                    .format(&when.date_time()?)
                    .try_write_to_string()
                    .map_err(|(e, _)| format!("cannot use this pattern: {e}"))?
                    .into_owned()
            }
        })
    }

    pub fn format_number(&self, n: &str, digits: Digits) -> Result<String, String> {
        let value = rounded(n, digits)?;
        let formatter = DecimalFormatter::try_new((&self.locale).into(), Default::default())
            .map_err(|e| e.to_string())?;
        Ok(formatter.format(&value).to_string())
    }

    /// With the currency's own digits (2 for EUR, 0 for JPY), per CLDR.
    pub fn format_currency(&self, n: &str, code: &str) -> Result<String, String> {
        let currency = CurrencyType::try_from_str(code)
            .ok()
            .filter(|c| {
                c.iso_code().len() == 3 && c.iso_code().chars().all(|c| c.is_ascii_alphabetic())
            })
            .ok_or_else(|| format!("{code:?} is not an ISO 4217 currency code such as \"EUR\""))?;
        let value = decimal(n)?;
        let formatter =
            CurrencyFormatter::try_new_symbol((&self.locale).into(), currency, Default::default())
                .map_err(|e| e.to_string())?;
        let mut out = String::new();
        formatter
            .format_fixed_decimal(&value)
            .write_to(&mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// `0.25` is 25 %, as in JavaScript's `Intl`.
    pub fn format_percent(&self, n: &str, digits: Digits) -> Result<String, String> {
        let mut value = decimal(n)?;
        value.multiply_pow10(2);
        let value = round(value, digits);
        let formatter = PercentFormatter::try_new((&self.locale).into(), Default::default())
            .map_err(|e| e.to_string())?;
        let mut out = String::new();
        write!(out, "{}", formatter.format(&value).write_to_string()).map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// The CLDR plural category of `n`: `zero`, `one`, `two`, `few`,
    /// `many` or `other`.
    pub fn plural_category(&self, n: &str) -> Result<&'static str, String> {
        let value = decimal(n)?;
        let rules =
            PluralRules::try_new_cardinal((&self.locale).into()).map_err(|e| e.to_string())?;
        Ok(match rules.category_for(&value) {
            PluralCategory::Zero => "zero",
            PluralCategory::One => "one",
            PluralCategory::Two => "two",
            PluralCategory::Few => "few",
            PluralCategory::Many => "many",
            PluralCategory::Other => "other",
        })
    }
}

fn decimal(n: &str) -> Result<Decimal, String> {
    n.trim()
        .parse::<Decimal>()
        .map_err(|_| format!("{n:?} is not a number"))
}

fn round(mut value: Decimal, digits: Digits) -> Decimal {
    value.round_with_mode(
        -digits.max,
        SignedRoundingMode::Unsigned(UnsignedRoundingMode::HalfExpand),
    );
    value.absolute.trim_start();
    value.absolute.trim_end();
    value.absolute.pad_end(-digits.min);
    value
}

fn rounded(n: &str, digits: Digits) -> Result<Decimal, String> {
    Ok(round(decimal(n)?, digits))
}
