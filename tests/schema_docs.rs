//! The schema documents itself: every type, field, argument, input field
//! and enum value a client can see has a description, read through the
//! same introspection query GraphiQL and code generators send.
mod common;

use common::*;
use serde_json::{Value, json};

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL sends it: it must
/// also fit within the server's depth and cost limits.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

/// GraphQL's own scalars, described by the spec rather than by botmem.
const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

fn described(item: &Value) -> bool {
    item["description"]
        .as_str()
        .is_some_and(|d| !d.trim().is_empty())
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value[key].as_array().map_or(&[], Vec::as_slice)
}

/// Paths of everything undocumented: `Type`, `Type.field`,
/// `Type.field(arg)`, `Input.field`, `Enum.VALUE`.
fn undocumented(schema: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    for ty in items(schema, "types") {
        let name = ty["name"].as_str().expect("every type has a name");
        if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        for field in items(ty, "fields") {
            let path = format!("{name}.{}", field["name"].as_str().unwrap_or("?"));
            if !described(field) {
                missing.push(path.clone());
            }
            for arg in items(field, "args") {
                if !described(arg) {
                    missing.push(format!("{path}({})", arg["name"].as_str().unwrap_or("?")));
                }
            }
        }
        for input in items(ty, "inputFields") {
            if !described(input) {
                missing.push(format!("{name}.{}", input["name"].as_str().unwrap_or("?")));
            }
        }
        for value in items(ty, "enumValues") {
            if !described(value) {
                missing.push(format!("{name}.{}", value["name"].as_str().unwrap_or("?")));
            }
        }
    }
    missing
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let s = TestServer::start().await;
    let data = s.ok(&s.admin("t1"), INTROSPECTION, json!({})).await;
    let schema = &data["__schema"];
    let names: Vec<&str> = items(schema, "types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for root in ["Query", "Mutation", "Subscription"] {
        assert!(
            names.contains(&root),
            "introspection lists {root}: {names:?}"
        );
    }
    let missing = undocumented(schema);
    assert!(
        missing.is_empty(),
        "{} schema items have no description (add a `///` doc comment, or \
         `#[graphql(desc = \"...\")]` on an argument):\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

/// Tests that need no database: `scripts/test` runs them once, with
/// `BOTMEM_TEST_DATABASE=none`.
mod no_database {
    use super::*;

    #[test]
    fn the_check_names_each_missing_item_by_path() {
        let schema = json!({ "types": [
            { "name": "String", "description": null },
            { "name": "__Type", "description": null },
            { "name": "Query", "description": "Reads.", "fields": [
                { "name": "bots", "description": "Bots.", "args": [
                    { "name": "first", "description": "" },
                    { "name": "after", "description": "A cursor." },
                ]},
                { "name": "bot", "description": null, "args": [] },
            ]},
            { "name": "MemoryRef", "description": null, "inputFields": [
                { "name": "scope", "description": null },
            ]},
            { "name": "Role", "description": "Roles.", "enumValues": [
                { "name": "VIEWER", "description": "  " },
                { "name": "ADMIN", "description": "Everything." },
            ]},
        ]});
        assert_eq!(
            undocumented(&schema),
            [
                "Query.bots(first)",
                "Query.bot",
                "MemoryRef",
                "MemoryRef.scope",
                "Role.VIEWER"
            ]
        );
    }
}
