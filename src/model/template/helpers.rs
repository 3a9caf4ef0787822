//! The helpers a template may call, and how a bare value prints.
//!
//! Helpers write their text straight to the output, so the escape hook
//! ([`bare_value`]) sees only bare `{{name}}` values.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonRender, Output, RenderContext,
    RenderErrorReason,
};
use serde_json::Value;

use super::culture::{Culture, Digits, When};

/// How a bare `{{name}}` prints: an ISO 8601 date or timestamp in the
/// culture's day-month form (CLDR `MMMd`, UTC), anything else as stored.
pub(super) fn bare_value(culture: &Culture, text: &str) -> String {
    match When::parse(text, None) {
        Ok(Some(when)) => culture
            .format_date(&when, "dayMonth")
            .unwrap_or_else(|_| text.to_owned()),
        _ => text.to_owned(),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    FormatDate,
    FormatNumber,
    FormatCurrency,
    FormatPercent,
    Plural,
    Text,
    Json,
    EscapeHtml,
}

const HELPERS: [(&str, Kind); 8] = [
    ("formatDate", Kind::FormatDate),
    ("formatNumber", Kind::FormatNumber),
    ("formatCurrency", Kind::FormatCurrency),
    ("formatPercent", Kind::FormatPercent),
    ("plural", Kind::Plural),
    ("text", Kind::Text),
    ("json", Kind::Json),
    ("escapeHtml", Kind::EscapeHtml),
];

pub(super) fn register(
    registry: &mut Handlebars<'_>,
    culture: &Culture,
    steps: Arc<AtomicU64>,
    max_steps: u64,
) {
    // `log` would let a template write to the server's log; `raw` (for
    // raw blocks) would hide a variable named `raw`.
    registry.unregister_helper("log");
    registry.unregister_helper("raw");
    for (name, kind) in HELPERS {
        registry.register_helper(
            name,
            Box::new(Formatter {
                culture: culture.clone(),
                kind,
            }),
        );
    }
    registry.register_helper(super::STEP, Box::new(Step { steps, max_steps }));
}

struct Step {
    steps: Arc<AtomicU64>,
    max_steps: u64,
}

impl HelperDef for Step {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        _: &mut dyn Output,
    ) -> HelperResult {
        let cost = h.param(0).and_then(|p| p.value().as_u64()).unwrap_or(1);
        let spent = self.steps.fetch_add(cost, Ordering::Relaxed) + cost;
        if spent > self.max_steps {
            return Err(RenderErrorReason::Other("too many loop steps".into()).into());
        }
        Ok(())
    }
}

struct Formatter {
    culture: Culture,
    kind: Kind,
}

impl HelperDef for Formatter {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        registry: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = h.name();
        let Some(param) = h.param(0) else {
            // `{{text}}` alone is a variable that shares the helper's name.
            return self.bare(name, registry, ctx, rc, out);
        };
        if param.is_value_missing() {
            if registry.strict_mode() {
                return Err(
                    RenderErrorReason::MissingVariable(param.relative_path().cloned()).into(),
                );
            }
            return Ok(());
        }
        let value = param.value();
        let text = self
            .format(h, value)
            .map_err(|message| RenderErrorReason::Other(format!("{name}: {message}")))?;
        out.write(&text)?;
        Ok(())
    }
}

impl Formatter {
    fn bare<'reg: 'rc, 'rc>(
        &self,
        name: &str,
        registry: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let value = rc.evaluate(ctx, name)?;
        if value.is_missing() {
            if registry.strict_mode() {
                return Err(RenderErrorReason::MissingVariable(Some(name.to_owned())).into());
            }
            return Ok(());
        }
        out.write(&bare_value(&self.culture, &value.as_json().render()))?;
        Ok(())
    }

    fn format(&self, h: &Helper<'_>, value: &Value) -> Result<String, String> {
        let culture = &self.culture;
        match self.kind {
            Kind::FormatDate => {
                let text = value
                    .as_str()
                    .ok_or("the value is not an ISO 8601 date or timestamp")?;
                let zone = string_arg(h, "timeZone")?;
                let when = When::parse(text, zone.as_deref())?
                    .ok_or("the value is not an ISO 8601 date or timestamp")?;
                let style = match h.param(1) {
                    Some(p) => p
                        .value()
                        .as_str()
                        .ok_or("the style is not a string")?
                        .to_owned(),
                    None => "medium".to_owned(),
                };
                culture.format_date(&when, &style)
            }
            Kind::FormatNumber => culture.format_number(&number(value)?, digits(h, 0, 3)?),
            Kind::FormatPercent => culture.format_percent(&number(value)?, digits(h, 0, 0)?),
            Kind::FormatCurrency => {
                let code = h
                    .param(1)
                    .and_then(|p| p.value().as_str())
                    .ok_or("name the currency, as in formatCurrency price \"EUR\"")?;
                culture.format_currency(&number(value)?, code)
            }
            Kind::Plural => {
                let category = culture.plural_category(&number(value)?)?;
                let form = string_arg(h, category)?.or(string_arg(h, "other")?);
                Ok(form.ok_or("give at least other=\"…\"")?)
            }
            Kind::Text => Ok(value.render()),
            Kind::Json => Ok(value.to_string()),
            Kind::EscapeHtml => Ok(handlebars::html_escape(&value.render())),
        }
    }
}

fn number(value: &Value) -> Result<String, String> {
    match value {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if s.trim().parse::<fixed_decimal::Decimal>().is_ok() => {
            Ok(s.trim().into())
        }
        _ => Err("the value is not a number".into()),
    }
}

fn string_arg(h: &Helper<'_>, name: &str) -> Result<Option<String>, String> {
    match h.hash_get(name).map(|p| p.value()) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} must be a string")),
    }
}

fn digits(h: &Helper<'_>, min: i16, max: i16) -> Result<Digits, String> {
    let arg = |name: &str, default: i16| -> Result<i16, String> {
        match h.hash_get(name).map(|p| p.value()) {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 20)
                .map(|n| n as i16)
                .ok_or_else(|| format!("{name} must be a whole number from 0 to 20")),
        }
    };
    let min = arg("minimumFractionDigits", min)?;
    let max = arg("maximumFractionDigits", max.max(min))?;
    if min > max {
        return Err("minimumFractionDigits is above maximumFractionDigits".into());
    }
    Ok(Digits { min, max })
}
