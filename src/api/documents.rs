//! Documents that passed the limits, kept parsed by their text. Bot engines
//! send the same few documents with new variables on every turn; parsing
//! (pest) and measuring them again was a large share of a read's CPU. The
//! cache holds no tenant data: the same text parses the same for everyone.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_graphql::parser::types::ExecutableDocument;

/// Most documents kept; when full the cache starts over, so a client that
/// sends endless distinct documents costs what it would without a cache.
const CAPACITY: usize = 512;
/// Longer documents are parsed each time (they are rarely repeated).
const MAX_CACHED_BYTES: usize = 16 << 10;

#[derive(Clone, Default)]
pub struct DocumentCache(Arc<Mutex<HashMap<String, Arc<ExecutableDocument>>>>);

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DocumentCache")
    }
}

impl DocumentCache {
    pub fn get(&self, source: &str) -> Option<ExecutableDocument> {
        let hit = self.lock().get(source).cloned()?;
        Some((*hit).clone())
    }

    pub fn put(&self, source: &str, document: &ExecutableDocument) {
        if source.len() > MAX_CACHED_BYTES {
            return;
        }
        let document = Arc::new(document.clone());
        let mut documents = self.lock();
        if documents.len() >= CAPACITY {
            documents.clear();
        }
        documents.insert(source.to_owned(), document);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ExecutableDocument>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
