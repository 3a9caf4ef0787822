//! The formatting rules against CLDR, and the static limits.
use serde_json::json;

use super::*;

fn render(source: &str, data: serde_json::Value, culture: &str) -> Result<String, TemplateError> {
    let limits = TemplateLimits::default();
    let culture = Culture::parse(culture).unwrap();
    Template::parse(source, &limits)?.render(&data, &culture, false, &limits)
}

#[test]
fn a_bare_iso_date_prints_as_the_cultures_day_and_month() {
    let data = json!({"date": "2026-02-11", "at": "2026-02-11T23:30:00Z"});
    for (culture, expected) in [
        ("en", "Feb 11"),
        ("en-GB", "11 Feb"),
        ("de", "11. Feb."),
        ("fr", "11 févr."),
        ("bg", "11.02."),
        ("ja", "2月11日"),
    ] {
        assert_eq!(
            render("{{date}}", data.clone(), culture).unwrap(),
            expected,
            "{culture}"
        );
    }
    assert_eq!(
        render("{{at}}|{{text date}}", data, "en-GB").unwrap(),
        "11 Feb|2026-02-11"
    );
}

#[test]
fn numbers_currencies_and_percentages_follow_the_culture() {
    let data = json!({"n": 1234567.891, "price": 1234.5, "p": 0.256});
    for (culture, number, currency, percent) in [
        ("en", "1,234,567.891", "€1,234.50", "26%"),
        ("de", "1.234.567,891", "1.234,50\u{a0}€", "26\u{a0}%"),
        ("bg", "1\u{a0}234\u{a0}567,891", "1234,50\u{a0}€", "26%"),
    ] {
        let out = render(
            "{{formatNumber n}}|{{formatCurrency price \"EUR\"}}|{{formatPercent p}}",
            data.clone(),
            culture,
        )
        .unwrap();
        assert_eq!(out, format!("{number}|{currency}|{percent}"), "{culture}");
    }
}

#[test]
fn syntax_errors_name_line_and_column() {
    let err = render("Hi\n{{#if a}}x{{/each}}", json!({}), "en").unwrap_err();
    assert!(
        matches!(&err, TemplateError::Invalid(m) if m.starts_with("line 2")),
        "{err:?}"
    );
}

#[test]
fn loops_are_bounded_by_steps() {
    let data = json!({"a": (0..1000).collect::<Vec<_>>()});
    let err = render("{{#each a}}{{#each ../a}}{{/each}}{{/each}}", data, "en").unwrap_err();
    assert!(matches!(err, TemplateError::OverLimit(_)), "{err:?}");
}

#[test]
fn hostile_templates_within_the_size_limit_are_refused_quickly() {
    let limits = TemplateLimits::default();
    let deep_parens = format!("{{{{a {}x{}}}}}", "(a ".repeat(4000), ")".repeat(4000));
    let deep_blocks = format!("{}{}", "{{#if a}}".repeat(1700), "{{/if}}".repeat(1700));
    let unclosed = "{{#if a}}".repeat(1800);
    let chained = format!("{{{{#if a}}}}{}{{{{/if}}}}", "{{else if a}}".repeat(1200));
    for source in [deep_parens, deep_blocks, unclosed, chained] {
        let source = &source[..source.len().min(limits.max_bytes)];
        let started = std::time::Instant::now();
        let refused = Template::parse(source, &limits);
        assert!(
            matches!(refused, Err(TemplateError::Invalid(_))),
            "{:?}",
            refused.err()
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}

#[test]
fn else_if_chains_render() {
    let chained = format!(
        "{{{{#if a}}}}A{}{{{{else}}}}Z{{{{/if}}}}",
        "{{else if b}}B".repeat(12)
    );
    assert_eq!(render(&chained, json!({"b": true}), "en").unwrap(), "B");
}

#[test]
fn nesting_is_counted_as_the_parser_nests() {
    let limits = TemplateLimits {
        max_nesting: 2,
        ..TemplateLimits::default()
    };
    for ok in [
        "{{#if a}}{{#if b}}x{{^}}y{{/if}}{{/if}}{{#if c}}{{/if}}",
        "{{formatDate d \"d (MMM)\"}} {{#if (eq a b)}}{{/if}}",
        "{{#if a}}{{else if b}}{{else}}{{/if}}{{#if a}}{{else if b}}{{/if}}",
    ] {
        assert!(Template::parse(ok, &limits).is_ok(), "{ok}");
    }
    for deep in [
        "{{#if a}}{{#if b}}{{#if c}}{{/if}}{{/if}}{{/if}}",
        "{{#if a}}{{else if b}}{{else if c}}{{/if}}",
        "{{a (b (c (d e)))}}",
    ] {
        assert!(Template::parse(deep, &limits).is_err(), "{deep}");
    }
}
