-- The legacy app's WhatsApp tables (../shared/reference/whatsapp.md): snake
-- table names, camelCase quoted columns, Prisma enums as PostgreSQL enum
-- types. Shared by the Next app and the Rust handlers, so a flip or a
-- rollback moves no data. Plus what the API-driven worker needs: the send
-- outbox (idempotency key + lease) and the ingest replay guard.

CREATE TYPE "WhatsAppSessionStatus" AS ENUM
    ('DISCONNECTED', 'CONNECTING', 'CONNECTED', 'QR_REQUIRED', 'ERROR');
CREATE TYPE "WhatsAppRoutingRule" AS ENUM
    ('FLOWBOT_ONLY', 'USER_ONLY', 'FLOWBOT_FIRST', 'USER_FIRST', 'MANUAL');
CREATE TYPE "WhatsAppMessageType" AS ENUM
    ('TEXT', 'IMAGE', 'VIDEO', 'AUDIO', 'DOCUMENT', 'STICKER', 'LOCATION', 'CONTACT', 'BUTTONS', 'LIST');
CREATE TYPE "WhatsAppMessageStatus" AS ENUM
    ('PENDING', 'SENT', 'DELIVERED', 'READ', 'FAILED');

CREATE TABLE whatsapp_sessions (
    "id"            TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "sessionId"     TEXT NOT NULL UNIQUE,
    "tenantId"      TEXT NOT NULL REFERENCES "Tenant"("id") ON DELETE CASCADE,
    "name"          TEXT NOT NULL,
    "phoneNumber"   TEXT,
    "status"        "WhatsAppSessionStatus" NOT NULL DEFAULT 'DISCONNECTED',
    -- Baileys auth state: secret, never returned by any route.
    "creds"         JSONB,
    "keys"          JSONB,
    "isActive"      BOOLEAN NOT NULL DEFAULT true,
    "browserActive" BOOLEAN NOT NULL DEFAULT false,
    "lastSync"      TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastConnected" TIMESTAMPTZ(3),
    "errorMessage"  TEXT,
    -- The worker keeps the current QR here: {"qr": "..."}.
    "metadata"      JSONB,
    "createdAt"     TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    "updatedAt"     TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX whatsapp_sessions_tenant_idx ON whatsapp_sessions("tenantId", "createdAt" DESC, "id" DESC);

CREATE TABLE whatsapp_session_configs (
    "id"                    TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "sessionId"             TEXT NOT NULL UNIQUE
                            REFERENCES whatsapp_sessions("sessionId") ON DELETE CASCADE,
    "routingRule"           "WhatsAppRoutingRule" NOT NULL DEFAULT 'FLOWBOT_FIRST',
    "autoReplyEnabled"      BOOLEAN NOT NULL DEFAULT false,
    "autoReplyMessage"      TEXT,
    "businessHoursEnabled"  BOOLEAN NOT NULL DEFAULT false,
    "businessHoursStart"    VARCHAR(8),
    "businessHoursEnd"      VARCHAR(8),
    "businessHoursTimezone" VARCHAR(64),
    "awayMessage"           TEXT,
    "metadata"              JSONB,
    "createdAt"             TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"             TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE whatsapp_messages (
    "id"              TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "sessionId"       TEXT NOT NULL REFERENCES whatsapp_sessions("sessionId") ON DELETE CASCADE,
    -- WhatsApp's key id; a replay of the same WhatsApp message is one row.
    "messageId"       TEXT NOT NULL,
    "remoteJid"       TEXT NOT NULL,
    "fromMe"          BOOLEAN NOT NULL DEFAULT false,
    "content"         TEXT,
    "messageType"     "WhatsAppMessageType" NOT NULL DEFAULT 'TEXT',
    "status"          "WhatsAppMessageStatus" NOT NULL DEFAULT 'PENDING',
    -- A storage object name under WHATSAPP_MEDIA_ROOT, never a path.
    "mediaUrl"        TEXT,
    "mediaMimeType"   TEXT,
    "mediaSize"       INTEGER,
    "thumbnailUrl"    TEXT,
    "quotedMessageId" TEXT,
    "timestamp"       TIMESTAMPTZ(3) NOT NULL,
    "deliveredAt"     TIMESTAMPTZ(3),
    "readAt"          TIMESTAMPTZ(3),
    "errorMessage"    TEXT,
    -- The raw Baileys message.
    "metadata"        JSONB,
    -- 'whatsapp-system' marks a FlowBot reply; a user id for sends from the UI.
    "senderId"        TEXT,
    "createdAt"       TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    "updatedAt"       TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT whatsapp_messages_session_message_key UNIQUE ("sessionId", "messageId")
);
-- History: newest first per chat, keyset on (timestamp, id).
CREATE INDEX whatsapp_messages_chat_idx
    ON whatsapp_messages("sessionId", "remoteJid", "timestamp" DESC, "id" DESC);
CREATE INDEX whatsapp_messages_session_ts_idx
    ON whatsapp_messages("sessionId", "timestamp" DESC, "id" DESC);

CREATE TABLE whatsapp_contacts (
    "id"               TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "sessionId"        TEXT NOT NULL REFERENCES whatsapp_sessions("sessionId") ON DELETE CASCADE,
    "jid"              TEXT NOT NULL,
    "name"             TEXT,
    "phoneNumber"      TEXT,
    "isGroup"          BOOLEAN NOT NULL DEFAULT false,
    "isBusiness"       BOOLEAN NOT NULL DEFAULT false,
    "avatarUrl"        TEXT,
    "lastMessageAt"    TIMESTAMPTZ(3),
    "unreadCount"      INTEGER NOT NULL DEFAULT 0,
    "metadata"         JSONB,
    "chatbotContactId" TEXT,
    "userId"           TEXT,
    "createdAt"        TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    "updatedAt"        TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    -- Not in the legacy schema (it upserted by lookup); makes upserts race-free.
    CONSTRAINT whatsapp_contacts_session_jid_key UNIQUE ("sessionId", "jid")
);

-- Sends queued by the admin UI and claimed by the worker with a lease.
CREATE TABLE whatsapp_outbox (
    "id"              TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    "sessionId"       TEXT NOT NULL REFERENCES whatsapp_sessions("sessionId") ON DELETE CASCADE,
    "clientMessageId" TEXT NOT NULL,
    -- Deterministic WhatsApp message id the worker sends with (see contract).
    "waMessageId"     TEXT NOT NULL,
    "toJid"           TEXT NOT NULL,
    "content"         TEXT NOT NULL,
    "senderId"        TEXT,
    "status"          TEXT NOT NULL DEFAULT 'queued'
                      CHECK ("status" IN ('queued', 'claimed', 'sent', 'failed')),
    "attempts"        INTEGER NOT NULL DEFAULT 0,
    "leaseOwner"      TEXT,
    "leaseUntil"      TIMESTAMPTZ(3),
    "errorMessage"    TEXT,
    "createdAt"       TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    "updatedAt"       TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    -- One send per (session, client key), whichever backend took the POST.
    CONSTRAINT whatsapp_outbox_session_client_key UNIQUE ("sessionId", "clientMessageId")
);
CREATE INDEX whatsapp_outbox_claimable_idx
    ON whatsapp_outbox("createdAt", "id") WHERE "status" IN ('queued', 'claimed');

-- Worker ingest batches already applied: a replay is a no-op on either side.
CREATE TABLE whatsapp_worker_batches (
    "sessionId" TEXT NOT NULL REFERENCES whatsapp_sessions("sessionId") ON DELETE CASCADE,
    "batchId"   TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY ("sessionId", "batchId")
);
