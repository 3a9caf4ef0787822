//! A tenant with one bot and one conversation of user `u1`: where most
//! memory tests start.
use serde_json::{Value, json};

use super::TestServer;

pub struct World {
    pub s: TestServer,
    /// An admin of tenant `t1`, valid for 90 days of the test clock (tests
    /// move the clock by days).
    pub token: String,
    pub bot: String,
    pub user: String,
    pub conversation: String,
}

impl World {
    pub async fn new() -> World {
        World::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut botmem::Config)) -> World {
        World::with(adjust, json!({ "name": "bot" })).await
    }

    /// A bot created with `input` (a `CreateBotInput`).
    pub async fn with_bot(input: Value) -> World {
        World::with(|_| {}, input).await
    }

    async fn with(adjust: impl FnOnce(&mut botmem::Config), input: Value) -> World {
        let s = TestServer::start_with(adjust).await;
        let mut claims = s.claims("t1", &["admin"]);
        claims.exp += 90 * 86_400;
        let token = s.sign(&claims);
        let data = s
            .ok(
                &token,
                "mutation($i: CreateBotInput!) { createBot(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await;
        let bot = data["createBot"]["id"].as_str().unwrap().to_owned();
        let c = s.start_conversation(&token, &bot, "u1").await;
        World {
            user: c["user"]["id"].as_str().unwrap().to_owned(),
            conversation: c["id"].as_str().unwrap().to_owned(),
            s,
            token,
            bot,
        }
    }

    pub fn bot_ref(&self) -> Value {
        json!({ "scope": "BOT", "botId": self.bot })
    }

    pub fn user_ref(&self) -> Value {
        json!({ "scope": "USER", "userId": self.user })
    }

    pub fn conv_ref(&self) -> Value {
        json!({ "scope": "CONVERSATION", "conversationId": self.conversation })
    }

    pub fn temp_ref(&self) -> Value {
        json!({ "scope": "TEMP", "conversationId": self.conversation })
    }

    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.s.gql(&self.token, query, variables).await
    }
}
