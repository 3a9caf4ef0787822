//! Relay connections. Cursors are opaque; ids are UUIDv7, so pages follow
//! creation order and stay stable while rows are added.
use async_graphql::SimpleObject;

use super::objects::{Bot, Conversation, User};
use crate::domain::{self, encode_cursor};

/// Where a page starts and ends, and whether other items come before or after it.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// True when more items follow: ask again with `after: endCursor`.
    pub has_next_page: bool,
    /// The cursor of this page's last item, to pass as `after`; null for an empty page.
    pub end_cursor: Option<String>,
    /// True when this page was asked for `after` a cursor, so items come before it. Pages are read
    /// forward only (`first`/`after`), as Relay allows.
    pub has_previous_page: bool,
    /// The cursor of this page's first item; null for an empty page.
    pub start_cursor: Option<String>,
}

impl PageInfo {
    /// From a page's flags and its cursors, in order.
    pub fn of<'a>(
        has_next_page: bool,
        has_previous_page: bool,
        mut cursors: impl DoubleEndedIterator<Item = &'a String> + Clone,
    ) -> PageInfo {
        PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: cursors.clone().next().cloned(),
            end_cursor: cursors.next_back().cloned(),
        }
    }
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
    let info = PageInfo::of(
        page.has_next,
        page.has_previous,
        edges.iter().map(|(_, c)| c),
    );
    (edges, info)
}

/// Declares `<Name>Connection` and `<Name>Edge` for a node type; `counted`
/// connections also report `totalCount`. `$what` names the nodes in the
/// descriptions ("bots").
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $what:literal, counted) => {
        connection!(@edge $edge, $node, $what);
        #[doc = concat!("A page of ", $what, ", oldest first; pass `pageInfo.endCursor` as `after` for the next page.")]
        #[derive(SimpleObject)]
        pub struct $connection {
            /// The items of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// Whether another page follows, and where this one ends.
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
    (@edge $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One of a page of ", $what, ", with its cursor.")]
        #[derive(SimpleObject)]
        pub struct $edge {
            /// The item itself.
            pub node: $node,
            /// Opaque: pass it as `after` to read the items that follow this one.
            pub cursor: String,
        }
    };
}

connection!(BotConnection, BotEdge, Bot, "bots", counted);
connection!(UserConnection, UserEdge, User, "users", counted);
connection!(
    ConversationConnection,
    ConversationEdge,
    Conversation,
    "conversations",
    counted
);
