//! What every resolver reads from the request: the service and the caller.
use async_graphql::{Context, Result};

use crate::{domain::App, error::Error, model::Auth};

pub fn app<'a>(ctx: &Context<'a>) -> &'a App {
    ctx.data_unchecked::<App>()
}

/// The HTTP and WebSocket layers put the verified caller into every
/// request; a request without one never reaches a resolver, but if it did
/// it would be refused here, not served.
pub fn auth<'a>(ctx: &Context<'a>) -> Result<&'a Auth> {
    ctx.data_opt::<Auth>()
        .ok_or_else(|| Error::Unauthenticated("missing bearer token".into()).into())
}

/// The request's DataLoader (see [`super::loaders`]).
pub fn loader<'a>(ctx: &Context<'a>) -> Result<&'a super::loaders::Loaders> {
    ctx.data::<super::loaders::Loaders>()
        .map_err(|_| Error::internal("a request without its loaders").into())
}
