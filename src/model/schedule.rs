//! A janitor schedule: cron with seconds (six fields, seconds first), as
//! tokio-cron-scheduler writes them. Parsed once; invalid text never gets
//! into a tenant row.
use chrono::{DateTime, Utc};
use croner::{
    Cron,
    parser::{CronParser, Seconds},
};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Schedule {
    text: String,
    cron: Cron,
}

impl Schedule {
    pub fn parse(field: &str, text: &str) -> Result<Schedule> {
        let text = text.trim();
        if text.split_whitespace().count() != 6 {
            return Err(Error::bad_input(
                field,
                "a cron with six fields, seconds first, e.g. \"0 */2 * * * *\"",
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .build()
            .parse(text)
            .map_err(|e| Error::bad_input(field, format!("not a valid cron: {e}")))?;
        let schedule = Schedule {
            text: text.to_owned(),
            cron,
        };
        // A pattern that never fires (say, 30 February) would park the tenant forever.
        if schedule.next_after(DateTime::<Utc>::UNIX_EPOCH).is_none() {
            return Err(Error::bad_input(field, "this cron never fires"));
        }
        Ok(schedule)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first firing strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn six_field_crons_parse_and_fire_after_the_given_time() {
        let s = Schedule::parse("s", "0 */2 * * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        assert_eq!(
            s.next_after(t),
            Some(Utc.with_ymd_and_hms(2030, 1, 1, 12, 2, 0).unwrap())
        );
        for bad in [
            "*/2 * * * *",
            "0 */2 * * * * *",
            "nonsense",
            "61 * * * * *",
            "0 0 0 30 2 *",
            "",
        ] {
            assert!(Schedule::parse("s", bad).is_err(), "{bad:?}");
        }
    }
}
