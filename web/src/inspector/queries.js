// Every GraphQL document the inspector sends. Each view's read is also
// what its "Open in GraphiQL" link fills in.

export const MEMORY_FIELDS = `fragment MemoryFields on Memory {
  scope
  ownerId
  version
  variables { name value version expiresAt createdAt updatedAt }
}`;

export const VIEWER = `query Viewer {
  viewer { subject roles bots tenant { id janitorSchedule maxValueBytes createdAt } }
}`;

export const BOTS = `query Bots($first: Int, $after: String) {
  bots(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name sessionTimeout lastMessagesKept createdAt } }
  }
}`;

export const BOT = `query Bot($id: UUID!) {
  bot(id: $id) {
    id name sessionTimeout lastMessagesKept createdAt updatedAt
    retentionPolicies { name ttl scopes }
    promotion { mode names }
    memory { ...MemoryFields }
  }
}
${MEMORY_FIELDS}`;

export const BOT_USERS = `query BotUsers($id: UUID!, $first: Int, $after: String, $externalId: String) {
  bot(id: $id) {
    users(first: $first, after: $after, externalId: $externalId) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id channel externalId firstName lastName createdAt } }
    }
  }
}`;

export const BOT_CONVERSATIONS = `query BotConversations($id: UUID!, $first: Int, $after: String, $status: ConversationStatus) {
  bot(id: $id) {
    conversations(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id status channel startedAt lastActivityAt expiresAt user { id externalId } } }
    }
  }
}`;

const CONVERSATION_FIELDS = `id botId status endReason channel culture debug channelProvider isProxy
    startedAt lastActivityAt expiresAt endedAt
    user { id externalId firstName lastName channel }
    messages(last: 10) { id direction text payload at }`;

export const CONVERSATION = `query Conversation($id: UUID!) {
  conversation(id: $id) {
    ${CONVERSATION_FIELDS}
    memory { ...MemoryFields }
    temp { ...MemoryFields }
    user { memory { ...MemoryFields } }
  }
}
${MEMORY_FIELDS}`;

/// The conversation without its memories: re-read on its own events.
export const CONVERSATION_STATE = `query ConversationState($id: UUID!) {
  conversation(id: $id) {
    ${CONVERSATION_FIELDS}
  }
}`;

export const BOT_MEMORY = `query BotMemory($id: UUID!) {
  bot(id: $id) { id name memory { ...MemoryFields } }
}
${MEMORY_FIELDS}`;

export const USER = `query User($id: UUID!) {
  user(id: $id) {
    id botId channel externalId firstName lastName avatarUrl locale createdAt
    memory { ...MemoryFields }
    active: conversations(first: 1, status: ACTIVE) {
      totalCount
      edges { node { id memory { ...MemoryFields } temp { ...MemoryFields } } }
    }
  }
}
${MEMORY_FIELDS}`;

export const USER_CONVERSATIONS = `query UserConversations($id: UUID!, $first: Int, $after: String, $status: ConversationStatus) {
  user(id: $id) {
    conversations(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id status channel startedAt lastActivityAt expiresAt } }
    }
  }
}`;

export const MEMORY = `query Memory($ref: MemoryRef!) {
  memory(ref: $ref) { ...MemoryFields }
}
${MEMORY_FIELDS}`;

export const VARIABLE = `query Variable($ref: MemoryRef!, $name: String!) {
  variable(ref: $ref, name: $name) { name value version expiresAt updatedAt }
}`;

export const SET_VARIABLE = `mutation SetVariable($input: SetVariableInput!) {
  setVariable(input: $input) { name value version expiresAt createdAt updatedAt }
}`;

export const UNSET_VARIABLE = `mutation UnsetVariable($ref: MemoryRef!, $name: String!, $expectedVersion: Int) {
  unsetVariable(ref: $ref, name: $name, expectedVersion: $expectedVersion)
}`;

export const END_CONVERSATION = `mutation EndConversation($id: UUID!, $reason: EndReason) {
  endConversation(id: $id, reason: $reason) { id status endReason endedAt }
}`;

export const UPDATE_BOT = `mutation UpdateBot($id: UUID!, $input: UpdateBotInput!) {
  updateBot(id: $id, input: $input) {
    id name sessionTimeout lastMessagesKept updatedAt
    retentionPolicies { name ttl scopes }
    promotion { mode names }
  }
}`;

export const TENANT = `query Tenant($first: Int, $after: String) {
  viewer { tenant { id janitorSchedule maxValueBytes createdAt } }
  janitorRuns(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id trigger startedAt finishedAt variablesExpired kvEntriesExpired conversationsExpired messagesTrimmed error } }
  }
}`;

export const UPDATE_TENANT = `mutation UpdateTenantSettings($input: TenantSettingsInput!) {
  updateTenantSettings(input: $input) { id janitorSchedule maxValueBytes createdAt }
}`;

export const RUN_JANITOR = `mutation RunJanitor {
  runJanitor { id trigger startedAt finishedAt variablesExpired kvEntriesExpired conversationsExpired messagesTrimmed error }
}`;

export const MEMORY_CHANGED = `subscription MemoryChanged($botId: UUID!, $scope: MemoryScope, $ownerId: UUID) {
  memoryChanged(botId: $botId, scope: $scope, ownerId: $ownerId) {
    op botId scope ownerId name value version memoryVersion at
  }
}`;

export const CONVERSATION_CHANGED = `subscription ConversationChanged($botId: UUID!) {
  conversationChanged(botId: $botId) {
    eventKind at
    conversation { id status endReason lastActivityAt expiresAt endedAt }
  }
}`;
