//! Relay connections. Cursors are opaque; ids are UUIDv7, so pages follow
//! creation order and stay stable while rows are added.
use async_graphql::SimpleObject;

use super::objects::{Bot, Conversation, User};
use crate::domain::{self, encode_cursor};

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// Something with an id to make a cursor of.
pub trait Node {
    fn cursor_id(&self) -> uuid::Uuid;
}

/// Edges of a page, and its `PageInfo`.
pub fn edges<D, T: Node>(
    page: &mut domain::Page<D>,
    wrap: impl Fn(D) -> T,
) -> (Vec<(T, String)>, PageInfo) {
    let edges: Vec<(T, String)> = std::mem::take(&mut page.items)
        .into_iter()
        .map(|item| {
            let node = wrap(item);
            let cursor = encode_cursor(node.cursor_id());
            (node, cursor)
        })
        .collect();
    let info = PageInfo {
        has_next_page: page.has_next,
        end_cursor: edges.last().map(|(_, c)| c.clone()),
    };
    (edges, info)
}

/// Declares `<Name>Connection` and `<Name>Edge` for a node type; `counted`
/// connections also report `totalCount`.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, counted) => {
        connection!(@edge $edge, $node);
        #[derive(SimpleObject)]
        pub struct $connection {
            pub edges: Vec<$edge>,
            pub page_info: PageInfo,
            /// Every match, not only this page.
            pub total_count: i32,
        }
        impl $connection {
            pub fn from_page<D>(mut page: domain::Page<D>, wrap: impl Fn(D) -> $node) -> Self {
                let total_count = page.total.unwrap_or(0).min(i32::MAX as u64) as i32;
                let (edges, page_info) = edges(&mut page, wrap);
                $connection {
                    edges: edges.into_iter().map(|(node, cursor)| $edge { node, cursor }).collect(),
                    page_info,
                    total_count,
                }
            }
        }
    };
    (@edge $edge:ident, $node:ty) => {
        #[derive(SimpleObject)]
        pub struct $edge {
            pub node: $node,
            pub cursor: String,
        }
    };
}

connection!(BotConnection, BotEdge, Bot, counted);
connection!(UserConnection, UserEdge, User, counted);
connection!(
    ConversationConnection,
    ConversationEdge,
    Conversation,
    counted
);
