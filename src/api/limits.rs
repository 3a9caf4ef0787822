//! Bounds on a GraphQL document, checked before async-graphql parses and
//! validates it. Its depth check and validation expand fragment spreads
//! without memoization, so 1 KB of doubling fragments costs minutes of CPU;
//! here every bound is linear in the document's size:
//!
//! 1. a lexical scan (no recursion) bounds bytes, tokens and bracket nesting,
//!    so the recursive parser never sees a document that could exhaust its
//!    stack;
//! 2. the parsed document is measured with one memoized walk per fragment:
//!    fields after expanding every spread, selection depth, aliases and
//!    directives; fragment cycles are refused;
//! 3. no string of the request (literals and variables) holds NUL, which
//!    PostgreSQL cannot store: both databases refuse the same inputs.
//!
//! The parsed document is kept in the request, so it is parsed once.
use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, Request, Value as ConstValue,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};
use async_graphql_value::Value;

use crate::error::Error;

/// The bounds, from configuration (`BOTMEM_MAX_QUERY_*`).
#[derive(Clone, Debug)]
pub struct DocumentLimits {
    pub max_bytes: usize,
    pub max_tokens: usize,
    pub max_nesting: usize,
    pub max_fields: u64,
    pub max_depth: u64,
    pub max_aliases: u64,
    pub max_directives: u64,
    /// Documents that passed, by their text.
    pub passed: super::documents::DocumentCache,
}

impl DocumentLimits {
    /// Checks `request` and leaves its parsed document in it.
    pub fn check(&self, request: &mut Request) -> Result<(), Error> {
        match self.passed.get(&request.query) {
            Some(document) => request.set_parsed_query(document),
            None => {
                self.scan(&request.query)?;
                let source = request.query.clone();
                let document = request
                    .parsed_query()
                    .map_err(|e| Error::bad_input("query", e.message))?;
                self.measure(document)?;
                reject_nul_in_document(document)?;
                self.passed.put(&source, document);
            }
        }
        for (name, value) in request.variables.iter() {
            reject_nul(&format!("variables.{name}"), value)?;
        }
        Ok(())
    }

    fn over(&self, what: &str, limit: impl std::fmt::Display) -> Error {
        Error::bad_input(
            "query",
            format!("the document exceeds the limit of {limit} {what}"),
        )
    }

    /// Bytes, tokens and `{[(` nesting, without parsing.
    fn scan(&self, source: &str) -> Result<(), Error> {
        if source.len() > self.max_bytes {
            return Err(self.over("bytes (BOTMEM_MAX_QUERY_BYTES)", self.max_bytes));
        }
        let bytes = source.as_bytes();
        let (mut i, mut tokens, mut nesting) = (0, 0usize, 0usize);
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                    i += 1;
                    continue;
                }
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                        i += 1;
                    }
                    continue;
                }
                b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                }
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                b'{' | b'[' | b'(' => {
                    nesting += 1;
                    if nesting > self.max_nesting {
                        return Err(self.over(
                            "nested brackets (BOTMEM_MAX_QUERY_NESTING)",
                            self.max_nesting,
                        ));
                    }
                    i += 1;
                }
                b'}' | b']' | b')' => {
                    nesting = nesting.saturating_sub(1);
                    i += 1;
                }
                b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                    while i < bytes.len()
                        && (bytes[i].is_ascii_alphanumeric()
                            || matches!(bytes[i], b'_' | b'.' | b'+' | b'-'))
                    {
                        i += 1;
                    }
                }
                b'.' if bytes[i..].starts_with(b"...") => i += 3,
                _ => i += 1,
            }
            tokens += 1;
            if tokens > self.max_tokens {
                return Err(self.over("tokens (BOTMEM_MAX_QUERY_TOKENS)", self.max_tokens));
            }
        }
        Ok(())
    }

    /// The document's size once every fragment spread is expanded.
    fn measure(&self, document: &ExecutableDocument) -> Result<(), Error> {
        let mut walk = Walk {
            document,
            memo: HashMap::new(),
        };
        let mut total = Size::default();
        for (_, operation) in document.operations.iter() {
            total.add(&walk.selection_set(&operation.node.selection_set)?);
        }
        for (name, _) in document.fragments.iter() {
            total.add(&walk.fragment(name)?);
        }
        if total.fields > self.max_fields {
            return Err(self.over(
                "fields after expanding fragments (BOTMEM_MAX_QUERY_FIELDS)",
                self.max_fields,
            ));
        }
        if total.depth > self.max_depth {
            return Err(self.over(
                "levels of selection depth (BOTMEM_MAX_QUERY_DEPTH)",
                self.max_depth,
            ));
        }
        if total.aliases > self.max_aliases {
            return Err(self.over("aliases (BOTMEM_MAX_QUERY_ALIASES)", self.max_aliases));
        }
        if total.directives > self.max_directives {
            return Err(self.over(
                "directives (BOTMEM_MAX_QUERY_DIRECTIVES)",
                self.max_directives,
            ));
        }
        Ok(())
    }
}

/// What a selection set expands to. Counts saturate: a doubling chain of
/// fragments reaches `u64::MAX` in a few dozen steps without overflowing.
#[derive(Clone, Copy, Default)]
struct Size {
    fields: u64,
    depth: u64,
    aliases: u64,
    directives: u64,
}

impl Size {
    fn add(&mut self, other: &Size) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.depth = self.depth.max(other.depth);
    }
}

struct Walk<'d> {
    document: &'d ExecutableDocument,
    /// `None` while a fragment is being measured: meeting it again is a cycle.
    memo: HashMap<&'d Name, Option<Size>>,
}

impl<'d> Walk<'d> {
    fn fragment(&mut self, name: &'d Name) -> Result<Size, Error> {
        match self.memo.get(name) {
            Some(Some(size)) => return Ok(*size),
            Some(None) => {
                return Err(Error::bad_input(
                    "query",
                    format!("fragment {name} spreads itself"),
                ));
            }
            None => {}
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            // Unknown fragments are reported by validation.
            return Ok(Size::default());
        };
        self.memo.insert(name, None);
        let mut size = self.selection_set(&fragment.node.selection_set)?;
        size.directives = size
            .directives
            .saturating_add(fragment.node.directives.len() as u64);
        self.memo.insert(name, Some(size));
        Ok(size)
    }

    fn selection_set(&mut self, set: &'d Positioned<SelectionSet>) -> Result<Size, Error> {
        let mut size = Size::default();
        for selection in &set.node.items {
            let inner = match &selection.node {
                Selection::Field(field) => {
                    let mut inner = self.selection_set(&field.node.selection_set)?;
                    inner.fields = inner.fields.saturating_add(1);
                    inner.depth = inner.depth.saturating_add(1);
                    inner.aliases = inner
                        .aliases
                        .saturating_add(u64::from(field.node.alias.is_some()));
                    inner
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node)?
                }
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set)?
                }
            };
            size.add(&inner);
            size.directives = size
                .directives
                .saturating_add(selection.node.directives().len() as u64);
        }
        Ok(size)
    }
}

/// Literal arguments anywhere in the document (variable defaults included).
fn reject_nul_in_document(document: &ExecutableDocument) -> Result<(), Error> {
    fn in_set(set: &SelectionSet) -> Result<(), Error> {
        for selection in &set.items {
            for directive in selection.node.directives() {
                for (name, value) in &directive.node.arguments {
                    reject_nul_literal(&name.node, &value.node)?;
                }
            }
            match &selection.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        reject_nul_literal(&name.node, &value.node)?;
                    }
                    in_set(&field.node.selection_set.node)?;
                }
                Selection::InlineFragment(inline) => in_set(&inline.node.selection_set.node)?,
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }
    for (_, operation) in document.operations.iter() {
        for definition in &operation.node.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                reject_nul(&definition.node.name.node, &default.node)?;
            }
        }
        in_set(&operation.node.selection_set.node)?;
    }
    for (_, fragment) in document.fragments.iter() {
        in_set(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

/// A literal of the document; variables in it are checked on their own.
fn reject_nul_literal(field: &str, value: &Value) -> Result<(), Error> {
    let literal = value
        .clone()
        .into_const_with(|_| Ok::<_, std::convert::Infallible>(ConstValue::Null))
        .unwrap_or(ConstValue::Null);
    reject_nul(field, &literal)
}

fn reject_nul(field: &str, value: &ConstValue) -> Result<(), Error> {
    use ConstValue as V;
    match value {
        V::String(s) if s.contains('\0') => Err(nul(field)),
        V::List(items) => items.iter().try_for_each(|v| reject_nul(field, v)),
        V::Object(map) => map.iter().try_for_each(|(key, v)| {
            if key.contains('\0') {
                return Err(nul(field));
            }
            reject_nul(&format!("{field}.{key}"), v)
        }),
        _ => Ok(()),
    }
}

fn nul(field: &str) -> Error {
    Error::bad_input(field, "text must not contain the NUL character (U+0000)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> DocumentLimits {
        DocumentLimits {
            max_bytes: 1 << 20,
            max_tokens: 100_000,
            max_nesting: 64,
            max_fields: 1000,
            max_depth: 16,
            max_aliases: 50,
            max_directives: 50,
            passed: Default::default(),
        }
    }

    fn check(query: &str) -> Result<(), String> {
        limits()
            .check(&mut Request::new(query))
            .map_err(|e| e.public_message())
    }

    #[test]
    fn doubling_fragments_are_refused_at_once() {
        let mut q = String::from("query { ...F40 }\nfragment F0 on Query { __typename }\n");
        for i in 1..=40 {
            q += &format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i - 1, i - 1);
        }
        let started = std::time::Instant::now();
        let error = check(&q).unwrap_err();
        assert!(error.contains("fields after expanding"), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
    }

    #[test]
    fn cycles_depth_aliases_nesting_and_nul_are_refused() {
        let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(check(cycle).unwrap_err().contains("spreads itself"));
        let deep = format!("query {}{}", "{ a ".repeat(20), "}".repeat(20));
        assert!(check(&deep).unwrap_err().contains("selection depth"));
        let aliases: String = (0..60).map(|i| format!("a{i}: __typename ")).collect();
        assert!(
            check(&format!("{{ {aliases} }}"))
                .unwrap_err()
                .contains("aliases")
        );
        let nested = format!("{{ f(v: {}1{}) }}", "[".repeat(100), "]".repeat(100));
        assert!(check(&nested).unwrap_err().contains("nested brackets"));
        let with_nul = "{ f(v: {a: \"x\\u0000\"}) }";
        assert!(check(with_nul).unwrap_err().contains("NUL"));
        let in_string = format!("{{ f(v: \"{}\") }}", "[".repeat(100));
        assert_eq!(check(&in_string), Ok(()));
        assert_eq!(check("{ a { b } ...F } fragment F on Query { c }"), Ok(()));
    }

    /// The second request with the same text takes the parsed document
    /// from the cache; a refused document is never cached, and variables
    /// are checked every time.
    #[test]
    fn passed_documents_are_reused_refused_ones_are_not() {
        let limits = limits();
        let query = "query($v: JSON) { a(v: $v) { b } }";
        assert!(limits.check(&mut Request::new(query)).is_ok());
        assert!(limits.passed.get(query).is_some());
        let deep = format!("query {}{}", "{ a ".repeat(20), "}".repeat(20));
        assert!(limits.check(&mut Request::new(&deep)).is_err());
        assert!(limits.passed.get(&deep).is_none());
        assert!(limits.check(&mut Request::new(&deep)).is_err());
        let nul = async_graphql::Variables::from_json(serde_json::json!({ "v": "x\u{0}" }));
        let mut with_nul = Request::new(query).variables(nul);
        assert!(limits.check(&mut with_nul).is_err());
        let mut again = Request::new(query);
        limits.check(&mut again).unwrap();
        assert_eq!(again.parsed_query().unwrap().operations.iter().count(), 1);
    }
}
