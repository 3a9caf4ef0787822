//! The GraphQL API: types and resolvers that only translate between GraphQL
//! and the domain, and the HTTP endpoints that serve them.
mod bots;
mod connection;
mod context;
mod conversations;
mod cost;
mod documents;
mod enums;
pub mod errors;
pub mod fair;
pub mod http;
mod kv;
pub mod limits;
mod loaders;
mod memory;
mod objects;
pub mod observe;
mod order;
mod scalars;
mod subscriptions;
mod tenant;
mod users;
pub mod web;
pub mod ws;

use async_graphql::{MergedObject, Schema, SchemaBuilder};
use subscriptions::SubscriptionRoot;

use crate::domain::App;

/// Reads, for the viewer role and up. An id of another tenant reads exactly like one that does not
/// exist (null, or NOT_FOUND); a bot outside the token's `bots` claim is FORBIDDEN when named by
/// botId, and its users and conversations read as not found.
#[derive(MergedObject, Default)]
pub struct Query(
    bots::BotQuery,
    users::UserQuery,
    conversations::ConversationQuery,
    memory::MemoryQuery,
    kv::KvQuery,
    tenant::TenantQuery,
);

/// Writes: editor for memory, users, conversations, messages and KV; admin for bots, tenant
/// settings and the janitor. A mutation that fails changes nothing. Ids of another tenant are
/// NOT_FOUND, like ids that do not exist; a bot outside the token's `bots` claim is FORBIDDEN, and
/// its users and conversations are NOT_FOUND.
#[derive(MergedObject, Default)]
pub struct Mutation(
    bots::BotMutation,
    users::UserMutation,
    conversations::ConversationMutation,
    memory::MemoryMutation,
    kv::KvMutation,
    tenant::TenantMutation,
);

pub type BotmemSchema = Schema<Query, Mutation, SubscriptionRoot>;

fn builder() -> SchemaBuilder<Query, Mutation, SubscriptionRoot> {
    Schema::build(Query::default(), Mutation::default(), SubscriptionRoot)
        .extension(order::FieldOrder)
}

/// Depth and cost limits keep one operation from fanning out without end;
/// the document itself was bounded before ([`limits::DocumentLimits`]).
pub fn schema(app: App, config: &crate::config::Config) -> BotmemSchema {
    let builder = builder()
        .extension(errors::ErrorCodes::new(
            config.max_query_depth as usize,
            config.max_query_cost,
        ))
        .limit_depth(config.max_query_depth as usize)
        .limit_complexity(config.max_query_cost)
        .data(app);
    match config.introspection {
        crate::config::Switch::On => builder.finish(),
        crate::config::Switch::Off => builder.disable_introspection().finish(),
    }
}

/// The SDL, as printed by `botmem schema` and committed as `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
