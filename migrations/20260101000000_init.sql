-- The legacy app's schema (Prisma naming: quoted PascalCase tables, camelCase
-- columns, text ids). Shared by the Next.js app and the Rust handlers.
-- Timestamps are timestamptz(3): millisecond precision, as JavaScript's Date.

CREATE TABLE "Tenant" (
    "id"              TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "name"            TEXT NOT NULL,
    "chatbotEnabled"  BOOLEAN NOT NULL DEFAULT true,
    "chatbotGreeting" TEXT,
    "chatbotColor"    TEXT,
    "createdAt"       TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "User" (
    "id"           TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "email"        TEXT NOT NULL UNIQUE,
    "name"         TEXT,
    "role"         TEXT NOT NULL DEFAULT 'USER' CHECK ("role" IN ('USER', 'ADMIN')),
    "passwordHash" TEXT,
    "createdAt"    TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "Membership" (
    "id"        TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "userId"    TEXT NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
    "tenantId"  TEXT NOT NULL REFERENCES "Tenant"("id") ON DELETE CASCADE,
    "role"      TEXT NOT NULL DEFAULT 'MEMBER',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE ("userId", "tenantId")
);

CREATE TABLE "Thread" (
    "id"        TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "tenantId"  TEXT NOT NULL REFERENCES "Tenant"("id") ON DELETE CASCADE,
    "title"     TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "ThreadParticipant" (
    "id"         TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "threadId"   TEXT NOT NULL REFERENCES "Thread"("id") ON DELETE CASCADE,
    "userId"     TEXT NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
    "lastReadAt" TIMESTAMPTZ(3),
    "joinedAt"   TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE ("threadId", "userId")
);
CREATE INDEX "ThreadParticipant_userId_idx" ON "ThreadParticipant"("userId");

CREATE TABLE "Message" (
    "id"              TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "threadId"        TEXT NOT NULL REFERENCES "Thread"("id") ON DELETE CASCADE,
    "senderId"        TEXT NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
    "body"            TEXT NOT NULL,
    "clientMessageId" TEXT,
    -- clock_timestamp(), not the transaction start: a long transaction must
    -- not date its row before rows committed meanwhile.
    "createdAt"       TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    -- Idempotent sends: one row per (thread, sender, clientMessageId).
    CONSTRAINT "Message_threadId_senderId_clientMessageId_key"
        UNIQUE ("threadId", "senderId", "clientMessageId")
);
-- Keyset paging, newest first.
CREATE INDEX "Message_threadId_createdAt_id_idx"
    ON "Message"("threadId", "createdAt" DESC, "id" DESC);

CREATE TABLE "MessageReceipt" (
    "id"          TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "messageId"   TEXT NOT NULL REFERENCES "Message"("id") ON DELETE CASCADE,
    "userId"      TEXT NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
    "deliveredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readAt"      TIMESTAMPTZ(3),
    UNIQUE ("messageId", "userId")
);

CREATE TABLE "ScheduledMessage" (
    "id"        TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "threadId"  TEXT NOT NULL REFERENCES "Thread"("id") ON DELETE CASCADE,
    "senderId"  TEXT NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
    "body"      TEXT NOT NULL,
    "sendAt"    TIMESTAMPTZ(3) NOT NULL,
    "status"    TEXT NOT NULL DEFAULT 'pending' CHECK ("status" IN ('pending', 'sent', 'cancelled')),
    "messageId" TEXT REFERENCES "Message"("id") ON DELETE SET NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "ScheduledMessage_due_idx" ON "ScheduledMessage"("sendAt", "id") WHERE "status" = 'pending';

CREATE TABLE "ChatbotSession" (
    "id"          TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "tenantId"    TEXT NOT NULL REFERENCES "Tenant"("id") ON DELETE CASCADE,
    "visitorId"   TEXT NOT NULL,
    "visitorName" TEXT,
    "status"      TEXT NOT NULL DEFAULT 'open' CHECK ("status" IN ('open', 'closed')),
    "createdAt"   TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "ChatbotSession_tenantId_visitorId_idx" ON "ChatbotSession"("tenantId", "visitorId");

CREATE TABLE "ChatbotMessage" (
    "id"              TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "sessionId"       TEXT NOT NULL REFERENCES "ChatbotSession"("id") ON DELETE CASCADE,
    "role"            TEXT NOT NULL CHECK ("role" IN ('visitor', 'bot', 'agent')),
    "body"            TEXT NOT NULL,
    "clientMessageId" TEXT,
    "createdAt"       TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT "ChatbotMessage_sessionId_role_clientMessageId_key"
        UNIQUE ("sessionId", "role", "clientMessageId")
);
CREATE INDEX "ChatbotMessage_sessionId_createdAt_id_idx"
    ON "ChatbotMessage"("sessionId", "createdAt" DESC, "id" DESC);

CREATE TABLE "SystemConfig" (
    "key"       TEXT PRIMARY KEY,
    "value"     JSONB NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
