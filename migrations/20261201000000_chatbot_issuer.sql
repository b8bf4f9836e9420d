-- Which chatbot issuer's visitor owns a conversation (issue 14, finding 1):
-- the `name` of the `[[auth.chatbot]]` that vouched for the visitor. Ownership
-- is (tenantId, issuer, visitorId), so visitor "v1" of a partner issuer never
-- owns the first-party widget's "v1" conversations. Additive: rows written
-- before this column existed were all started through the one issuer there
-- was, the shipped routes.toml's "widget" (rename it here if yours differs).
-- A constant default is a metadata-only change (no table rewrite).
ALTER TABLE "ChatbotSession" ADD COLUMN "issuer" TEXT NOT NULL DEFAULT 'widget';
