//! `renderTemplate`: every name a NativeChat or SAP CAI template uses, the
//! culture formatting over CLDR data, bad templates with their position,
//! the limits, rule 2 (an expired variable never renders) and isolation.
mod common;

use chrono::TimeDelta;
use common::{TestServer, World, assert_code};
use serde_json::{Value, json};

const RENDER: &str = "query($c: UUID!, $t: String!, $strict: Boolean! = false) {
    renderTemplate(conversationId: $c, template: $t, strict: $strict) }";

async fn render(s: &TestServer, token: &str, conversation: &str, template: &str) -> Value {
    s.gql(token, RENDER, json!({ "c": conversation, "t": template }))
        .await
}

async fn rendered(w: &World, conversation: &str, template: &str) -> String {
    let body = render(&w.s, &w.token, conversation, template).await;
    body["data"]["renderTemplate"]
        .as_str()
        .unwrap_or_else(|| panic!("{template:?} did not render: {body}"))
        .to_owned()
}

async fn set(w: &World, r: Value, name: &str, value: Value) {
    let body = w
        .gql(
            "mutation($r: MemoryRef!, $n: String!, $v: JSON!) {
               setVariable(input: { ref: $r, name: $n, value: $v }) { version } }",
            json!({ "r": r, "n": name, "v": value }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
}

/// A conversation of a new user with this profile, culture and prefilled
/// short-term memory; returns its id.
async fn conversation(
    w: &World,
    external_id: &str,
    culture: Option<&str>,
    locale: Option<&str>,
) -> String {
    w.s.ok(
        &w.token,
        "mutation($i: UpsertUserInput!) { upsertUser(input: $i) { id } }",
        json!({ "i": {
            "botId": w.bot, "channel": "web", "externalId": external_id,
            "firstName": "John", "lastName": "Burke", "locale": locale,
            "avatarUrl": "https://example.com/jb.png",
        } }),
    )
    .await;
    let data =
        w.s.ok(
            &w.token,
            "mutation($i: StartConversationInput!) { startConversation(input: $i) { id } }",
            json!({ "i": {
                "botId": w.bot, "channel": "web", "externalId": external_id,
                "culture": culture, "debug": true,
                "channelProvider": "Messenger", "isProxy": true,
                "memory": {
                    "doctor": "Dr. John Burke",
                    "date": "2026-02-11",
                    "person": { "raw": "J. B." },
                    "items": [{ "name": "tea" }, { "name": "cake" }],
                    "n": 1234567.891,
                    "price": 1234.5,
                    "share": 0.256,
                },
            } }),
        )
        .await;
    data["startConversation"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn nativechats_example_sentence_renders_verbatim() {
    let w = World::new().await;
    let c = conversation(&w, "jb", Some("en-GB"), None).await;
    assert_eq!(
        rendered(&w, &c, "{{doctor}} is not available on {{date}}.").await,
        "Dr. John Burke is not available on 11 Feb."
    );
}

#[tokio::test]
async fn every_scope_profile_and_system_name_renders() {
    let w = World::new().await;
    let c = conversation(&w, "jb", Some("en"), Some("de")).await;
    let user =
        w.s.ok(
            &w.token,
            "query($id: UUID!) { conversation(id: $id) { user { id } } }",
            json!({ "id": c }),
        )
        .await["conversation"]["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    set(
        &w,
        json!({ "scope": "USER", "userId": user }),
        "color",
        json!("green"),
    )
    .await;
    set(
        &w,
        json!({ "scope": "USER", "userId": user }),
        "doctor",
        json!("long-term doctor"),
    )
    .await;
    set(
        &w,
        json!({ "scope": "USER", "userId": user }),
        "city",
        json!("Sofia"),
    )
    .await;
    set(
        &w,
        json!({ "scope": "TEMP", "conversationId": c }),
        "step",
        json!(3),
    )
    .await;
    set(&w, w.bot_ref(), "hours", json!("9-17")).await;
    set(
        &w,
        json!({ "scope": "CONVERSATION", "conversationId": c }),
        "text",
        json!("hello"),
    )
    .await;

    let cases = [
        ("{{user.firstName}} {{user.lastName}}", "John Burke"),
        ("{{user.FirstName}} {{user.LastName}}", "John Burke"),
        ("{{user.externalId}}/{{user.ExternalId}}", "jb/jb"),
        ("{{user.channel}}/{{user.Channel}}", "web/web"),
        (
            "{{user.avatarUrl}}|{{user.Avatar}}",
            "https://example.com/jb.png|https://example.com/jb.png",
        ),
        ("{{user.locale}}", "de"),
        ("{{user.color}}", "green"),
        (
            "{{memory.doctor}}|{{session.doctor}}|{{user.doctor}}",
            "Dr. John Burke|Dr. John Burke|long-term doctor",
        ),
        ("{{temp.step}} {{bot.hours}}", "3 9-17"),
        ("{{_system.culture}} {{_system.debug}}", "en true"),
        (
            "{{_system.channel.providerName}} {{_system.channel.ProviderName}}",
            "Messenger Messenger",
        ),
        (
            "{{_system.channel.isProxy}} {{_system.channel.IsProxy}}",
            "true true",
        ),
        // Bare names: short-term first, then long-term.
        ("{{doctor}} in {{city}}", "Dr. John Burke in Sofia"),
        (
            "{{memory.person.raw}} {{memory.items.[0].name}}",
            "J. B. tea",
        ),
        (
            "{{#each items}}{{@index}}:{{name}}{{#unless @last}}, {{/unless}}{{/each}}",
            "0:tea, 1:cake",
        ),
        (
            "{{#each memory.person}}{{@key}}={{this}}{{/each}}",
            "raw=J. B.",
        ),
        (
            "{{#if color}}has{{else}}none{{/if}} {{#if nothing}}has{{else}}none{{/if}}",
            "has none",
        ),
        ("{{#with memory.person}}{{raw}}{{/with}}", "J. B."),
        // Chat text, not HTML; a helper escapes on request.
        (
            "{{text \"<b>&\"}} {{escapeHtml \"<b>&\"}}",
            "<b>& &lt;b&gt;&amp;",
        ),
        ("[{{missing}}] [{{user.missing}}]", "[] []"),
        // A variable named like a helper, alone, is the variable.
        ("{{text}}", "hello"),
    ];
    for (template, expected) in cases {
        assert_eq!(rendered(&w, &c, template).await, expected, "{template}");
    }
}

#[tokio::test]
async fn sap_memory_username_flow() {
    let w = World::new().await;
    set(&w, w.conv_ref(), "username", json!("Maria")).await;
    assert_eq!(
        rendered(&w, &w.conversation, "Hello {{memory.username}}!").await,
        "Hello Maria!"
    );
}

#[tokio::test]
async fn dates_numbers_and_currencies_follow_the_culture() {
    let w = World::new().await;
    let template = "{{date}}|{{formatDate date \"medium\"}}|{{formatDate date \"d MMM\"}}|\
        {{formatNumber n}}|{{formatNumber n maximumFractionDigits=1}}|\
        {{formatCurrency price \"EUR\"}}|{{formatPercent share}}|{{text date}}";
    let cases = [
        (
            "en",
            "Feb 11|Feb 11, 2026|11 Feb|1,234,567.891|1,234,567.9|€1,234.50|26%|2026-02-11",
        ),
        (
            "en-GB",
            "11 Feb|11 Feb 2026|11 Feb|1,234,567.891|1,234,567.9|€1,234.50|26%|2026-02-11",
        ),
        (
            "de",
            "11. Feb.|11.02.2026|11 Feb.|1.234.567,891|1.234.567,9|1.234,50\u{a0}€|26\u{a0}%|2026-02-11",
        ),
        (
            "fr",
            "11 févr.|11 févr. 2026|11 févr.|1\u{202f}234\u{202f}567,891|1\u{202f}234\u{202f}567,9|1\u{202f}234,50\u{a0}€|26\u{a0}%|2026-02-11",
        ),
        (
            "bg",
            "11.02.|11.02.2026\u{202f}г.|11 фев|1\u{a0}234\u{a0}567,891|1\u{a0}234\u{a0}567,9|1234,50\u{a0}€|26%|2026-02-11",
        ),
        (
            "ja",
            "2月11日|2026/02/11|11 2月|1,234,567.891|1,234,567.9|€1,234.50|26%|2026-02-11",
        ),
    ];
    for (culture, expected) in cases {
        let c = conversation(&w, &format!("u-{culture}"), Some(culture), None).await;
        assert_eq!(rendered(&w, &c, template).await, expected, "{culture}");
    }
    // No culture on the conversation: the user's locale, then `en`.
    let c = conversation(&w, "de-user", None, Some("de")).await;
    assert_eq!(
        rendered(&w, &c, "{{_system.culture}} {{date}}").await,
        "de 11. Feb."
    );
    let c = conversation(&w, "nobody", None, None).await;
    assert_eq!(
        rendered(&w, &c, "{{_system.culture}} {{date}}").await,
        "en Feb 11"
    );
    // A timestamp, shown in a time zone given to the helper (UTC otherwise).
    set(&w, w.conv_ref(), "at", json!("2026-02-11T23:30:00Z")).await;
    assert_eq!(
        rendered(
            &w,
            &w.conversation,
            "{{formatDate at \"dateTime\"}}|{{formatDate at \"dateTime\" timeZone=\"Europe/Sofia\"}}"
        )
        .await,
        "Feb 11, 2026, 11:30\u{202f}PM|Feb 12, 2026, 1:30\u{202f}AM"
    );
    // Plural categories from CLDR.
    set(&w, w.conv_ref(), "count", json!(1)).await;
    assert_eq!(
        rendered(
            &w,
            &w.conversation,
            "{{count}} {{plural count one=\"item\" other=\"items\"}}"
        )
        .await,
        "1 item"
    );
}

#[tokio::test]
async fn bad_templates_name_line_and_column_and_change_nothing() {
    let w = World::new().await;
    set(&w, w.conv_ref(), "date", json!("2026-02-11")).await;
    set(&w, w.conv_ref(), "price", json!(12)).await;
    set(&w, w.conv_ref(), "doctor", json!("Dr. Burke")).await;
    let cases = [
        ("Hi\n{{#if a}}x", "line 2"),
        ("Hi\n  {{#if a}}x{{/each}}", "line 2"),
        ("{{#each}}", "line 1"),
        ("one\ntwo {{> partial}}", "line 2, column 5"),
        ("{{#*inline \"p\"}}x{{/inline}}", "line 1, column 1"),
        ("{{formatDate date \"nonsense style\"}}", "formatDate"),
        ("{{formatCurrency price \"EURO\"}}", "formatCurrency"),
        ("{{formatNumber doctor}}", "not a number"),
        ("{{formatDate date timeZone=\"Mars/Olympus\"}}", "time zone"),
    ];
    for (template, expected) in cases {
        let body = render(&w.s, &w.token, &w.conversation, template).await;
        assert_eq!(
            common::code(&body),
            "BAD_USER_INPUT",
            "{template:?}: {body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{template:?}: {message}");
    }
    // Strict mode: a name with no value fails, naming it and where it is.
    let body = w
        .gql(
            RENDER,
            json!({ "c": w.conversation, "t": "ok\n {{nope}}", "strict": true }),
        )
        .await;
    assert_code(&body, "BAD_USER_INPUT");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("nope") && message.contains("line 2"),
        "{message}"
    );
}

#[tokio::test]
async fn limits_bound_every_render() {
    let w = World::start_with(|c| {
        c.template_max_bytes = 200;
        c.template_max_output_bytes = 100;
        c.template_max_nesting = 3;
        c.template_max_steps = 1_000;
    })
    .await;
    set(
        &w,
        w.conv_ref(),
        "list",
        json!((0..100).collect::<Vec<_>>()),
    )
    .await;
    set(&w, w.conv_ref(), "long", json!("x".repeat(101))).await;
    let cases = [
        ("x".repeat(201), "BAD_USER_INPUT"),
        (
            "{{#if a}}{{#if a}}{{#if a}}{{#if a}}{{/if}}{{/if}}{{/if}}{{/if}}".into(),
            "BAD_USER_INPUT",
        ),
        ("{{long}}".into(), "QUOTA_EXCEEDED"),
        (
            "{{#each list}}{{#each ../list}}{{/each}}{{/each}}".into(),
            "QUOTA_EXCEEDED",
        ),
    ];
    for (template, expected) in cases {
        let body = render(&w.s, &w.token, &w.conversation, &template).await;
        assert_code(&body, expected);
    }
    // Just inside the limits.
    assert_eq!(
        rendered(
            &w,
            &w.conversation,
            "{{#each list}}{{#if @first}}{{this}}{{/if}}{{/each}}"
        )
        .await,
        "0"
    );
}

#[tokio::test]
async fn an_expired_variable_never_renders() {
    let w = World::new().await;
    w.gql(
        "mutation($r: MemoryRef!) { setVariable(input: { ref: $r, name: \"otp\", value: 42, expiresIn: \"5m\" }) { version } }",
        json!({ "r": w.conv_ref() }),
    )
    .await;
    assert_eq!(rendered(&w, &w.conversation, "[{{otp}}]").await, "[42]");
    w.s.clock.advance(TimeDelta::minutes(5));
    assert_eq!(rendered(&w, &w.conversation, "[{{otp}}]").await, "[]");
}

#[tokio::test]
async fn other_tenants_and_bots_read_not_found() {
    let w = World::new().await;
    let other = w.s.admin("t2");
    assert_code(
        &render(&w.s, &other, &w.conversation, "x").await,
        "NOT_FOUND",
    );
    let mut claims = w.s.claims("t1", &["viewer"]);
    claims.bots = Some(vec![uuid::Uuid::new_v4()]);
    let narrow = w.s.sign(&claims);
    assert_code(
        &render(&w.s, &narrow, &w.conversation, "x").await,
        "NOT_FOUND",
    );
    let viewer = w.s.token("t1", "viewer");
    let body = render(&w.s, &viewer, &w.conversation, "ok").await;
    assert_eq!(body["data"]["renderTemplate"], "ok", "{body}");
    let missing = uuid::Uuid::new_v4().to_string();
    assert_code(&render(&w.s, &w.token, &missing, "x").await, "NOT_FOUND");
}
