//! Keyset pagination by id. Ids are UUIDv7, so pages follow creation order
//! and a cursor stays valid however many rows are added or removed.
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::{
    error::Result,
    model::{Page, PageRequest},
};

pub(crate) async fn page<E, C>(
    db: &C,
    select: Select<E>,
    id_column: E::Column,
    request: &PageRequest,
    with_total: bool,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    let total = if with_total {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    let mut query = select;
    if let Some(after) = request.after {
        query = query.filter(id_column.gt(after));
    }
    let mut items = query
        .order_by_asc(id_column)
        .limit(request.first + 1)
        .all(db)
        .await?;
    let has_next = items.len() as u64 > request.first;
    items.truncate(request.first as usize);
    Ok(Page {
        items,
        has_next,
        has_previous: request.after.is_some(),
        total,
    })
}
