//! Per-request DataLoaders: the nested `memory`, `temp`, `messages` and
//! `user` fields of a page of bots, users or conversations load with one
//! read per level instead of one per node. Made for each request with the
//! caller's auth, never shared between requests or tenants.
use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};

use crate::{
    domain::{App, Memory, Message, OwnerKey, User},
    error::Error,
    model::Auth,
    model::{ConversationId, UserId},
};

/// One loader per request; it loads every key type `Caller` can load.
pub type Loaders = Arc<DataLoader<Caller>>;

pub fn for_request(app: App, auth: Auth) -> Loaders {
    Arc::new(DataLoader::new(Caller { app, auth }, tokio::spawn))
}

/// One request's caller: every load runs with its auth.
pub struct Caller {
    app: App,
    auth: Auth,
}

/// A failed batch fails every field that waited on it, with one error.
pub type Shared = Arc<Error>;

pub fn shared_error(error: Shared) -> async_graphql::Error {
    super::errors::graphql(&error)
}

impl Loader<OwnerKey> for Caller {
    type Value = Memory;
    type Error = Shared;

    async fn load(&self, keys: &[OwnerKey]) -> Result<HashMap<OwnerKey, Memory>, Shared> {
        let memories = self.app.memories(&self.auth, keys).await?;
        Ok(memories.into_iter().map(|m| (m.key, m)).collect())
    }
}

impl Loader<UserId> for Caller {
    type Value = User;
    type Error = Shared;

    async fn load(&self, ids: &[UserId]) -> Result<HashMap<UserId, User>, Shared> {
        let users = self.app.users(&self.auth, ids).await?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// A conversation's newest `last` messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageLog {
    pub conversation: ConversationId,
    pub last: i32,
}

impl Loader<MessageLog> for Caller {
    type Value = Vec<Message>;
    type Error = Shared;

    async fn load(&self, keys: &[MessageLog]) -> Result<HashMap<MessageLog, Vec<Message>>, Shared> {
        let mut by_size: HashMap<i32, Vec<ConversationId>> = HashMap::new();
        for key in keys {
            by_size.entry(key.last).or_default().push(key.conversation);
        }
        let mut found = HashMap::new();
        for (last, conversations) in by_size {
            let logs = self
                .app
                .message_logs(&self.auth, &conversations, last)
                .await?;
            found.extend(
                logs.into_iter()
                    .map(|(conversation, log)| (MessageLog { conversation, last }, log)),
            );
        }
        Ok(found)
    }
}
