//! Relay connections beyond the contract's minimum: `hasPreviousPage` and
//! `startCursor` on every page, `totalCount` where counting is cheap.
mod common;

use common::*;
use serde_json::{Value, json};

const BOTS: &str = "query($after: String) { bots(first: 2, after: $after) {
    totalCount edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

fn cursors(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_say_where_they_start_and_whether_items_come_before() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    for name in ["a", "b", "c"] {
        s.create_bot(&admin, name).await;
    }
    let first = s.ok(&admin, BOTS, json!({})).await["bots"].clone();
    let page = &first["pageInfo"];
    let edges = cursors(&first);
    assert_eq!(first["totalCount"], 3);
    assert_eq!(
        (&page["hasNextPage"], &page["hasPreviousPage"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(page["startCursor"], json!(edges[0]));
    assert_eq!(page["endCursor"], json!(edges[1]));

    let second = s.ok(&admin, BOTS, json!({ "after": edges[1] })).await["bots"].clone();
    let page = &second["pageInfo"];
    assert_eq!(
        (&page["hasNextPage"], &page["hasPreviousPage"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(second["edges"][0]["node"]["name"], "c");
    assert_eq!(page["startCursor"], page["endCursor"]);

    let empty = s
        .ok(
            &admin,
            "{ bots(first: 0) { pageInfo { startCursor endCursor hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        empty["bots"]["pageInfo"],
        json!({ "startCursor": null, "endCursor": null, "hasNextPage": true })
    );
}

#[tokio::test]
async fn kv_pages_and_janitor_runs_are_relay_pages_too() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    for key in ["k1", "k2", "k3"] {
        s.ok(
            &admin,
            "mutation($k: String!) { kvSet(input: { key: $k, value: 1 }) { key } }",
            json!({ "k": key }),
        )
        .await;
    }
    let q = "query($after: String) { kvEntries(first: 2, after: $after) {
        edges { cursor } pageInfo { hasPreviousPage startCursor endCursor hasNextPage } } }";
    let first = s.ok(&admin, q, json!({})).await["kvEntries"].clone();
    let edges = cursors(&first);
    assert_eq!(first["pageInfo"]["startCursor"], json!(edges[0]));
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    let after = first["pageInfo"]["endCursor"].clone();
    let second = s.ok(&admin, q, json!({ "after": after })).await["kvEntries"].clone();
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(second["pageInfo"]["hasNextPage"], false);

    for _ in 0..3 {
        s.ok(&admin, "mutation { runJanitor { id } }", json!({}))
            .await;
    }
    let runs = s
        .ok(
            &admin,
            "{ janitorRuns(first: 1) { totalCount pageInfo { hasNextPage hasPreviousPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        runs["janitorRuns"],
        json!({ "totalCount": 3, "pageInfo": { "hasNextPage": true, "hasPreviousPage": false } })
    );
    // Another tenant's runs are not counted.
    let other = s.admin("t2");
    let theirs = s
        .ok(&other, "{ janitorRuns { totalCount } }", json!({}))
        .await;
    assert_eq!(theirs["janitorRuns"]["totalCount"], 0);
}
