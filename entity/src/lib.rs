//! sea-orm entities for botmem. Every tenant-owned table has `tenant_id` as the
//! first column of its primary key, so data can be distributed by tenant.
//!
//! Enumerations are stored as short lowercase text and converted in the
//! domain layer; times are `DateTimeUtc` bound from the injected clock.

pub mod bot;
pub mod conversation;
pub mod event_outbox;
pub mod janitor_run;
mod json;
pub mod kv_entry;
pub mod memory;
pub mod message;
pub mod tenant;
pub mod user;
pub mod variable;

pub use json::{StoredJson, UNREADABLE};

/// Implemented by every entity whose rows belong to one tenant. The store
/// reaches such tables only through helpers that filter by this column.
pub trait TenantScoped: sea_orm::EntityTrait {
    fn tenant_column() -> Self::Column;
}

macro_rules! tenant_scoped {
    ($($module:ident),*) => {
        $(impl TenantScoped for $module::Entity {
            fn tenant_column() -> Self::Column {
                $module::Column::TenantId
            }
        })*
    };
}
tenant_scoped!(
    bot,
    user,
    conversation,
    event_outbox,
    memory,
    variable,
    message,
    kv_entry,
    janitor_run
);

impl TenantScoped for tenant::Entity {
    fn tenant_column() -> Self::Column {
        tenant::Column::Id
    }
}
