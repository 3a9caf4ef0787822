//! `renderTemplate`: memory put into a bot's reply, in the conversation's
//! culture.
use super::*;
use crate::error::{Error, Result};

impl App {
    pub fn with_template_limits(mut self, limits: TemplateLimits) -> App {
        self.templates = limits;
        self
    }

    /// Parses first (a bad template costs no database read), then reads the
    /// conversation's four memories in one statement, so a render never
    /// mixes two versions of memory. Expired variables are absent (rule 2).
    pub async fn render_template(
        &self,
        auth: &Auth,
        conversation: ConversationId,
        source: &str,
        strict: bool,
    ) -> Result<String> {
        let template = Template::parse(source, &self.templates).map_err(template_error)?;
        let target = self
            .resolve(
                auth,
                Capability::Read,
                &MemoryRef::of_conversation(Scope::Conversation, conversation),
            )
            .await?;
        let conversation = target
            .conversation
            .ok_or_else(|| Error::internal("a conversation target without its conversation"))?;
        let user = self
            .store
            .find_user(&auth.tenant, conversation.user_id)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        let keys = [
            (Scope::Conversation, conversation.id.0),
            (Scope::Temp, conversation.id.0),
            (Scope::User, user.id.0),
            (Scope::Bot, conversation.bot_id.0),
        ]
        .map(|(scope, owner_id)| OwnerKey { scope, owner_id });
        let memories = self.memories(auth, &keys).await?;
        let scope = |scope: Scope| -> &[Variable] {
            memories
                .iter()
                .find(|m| m.key.scope == scope)
                .map_or(&[], |m| m.variables.as_slice())
        };
        let culture = Culture::resolve(&[conversation.culture.as_deref(), user.locale.as_deref()]);
        let data = TemplateData {
            culture: &culture,
            conversation: &conversation,
            user: &user,
            user_memory: scope(Scope::User),
            conversation_memory: scope(Scope::Conversation),
            temp_memory: scope(Scope::Temp),
            bot_memory: scope(Scope::Bot),
        }
        .to_json();
        template
            .render(&data, &culture, strict, &self.templates)
            .map_err(template_error)
    }
}

fn template_error(e: TemplateError) -> Error {
    match e {
        TemplateError::Invalid(message) => Error::bad_input("template", message),
        TemplateError::OverLimit(message) => Error::QuotaExceeded(message),
    }
}
