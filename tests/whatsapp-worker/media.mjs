// Deterministic small media files with real magic bytes, standing in for what
// the real worker gets from Baileys' downloadMediaMessage() (the decrypted
// file) and stores under WHATSAPP_MEDIA_ROOT.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

// A real 16x16 JPEG (WhatsApp green), made once with Pillow. Also used as the
// imageMessage's jpegThumbnail, like Baileys' generated thumbnails.
export const TINY_JPEG = Buffer.from(
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAT/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABAb/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCoANNP/9k=",
  "base64",
);

/** kind -> {ext, mimetype} as Baileys' messages carry them. */
export const MEDIA_KINDS = {
  image: { ext: "jpg", mimetype: "image/jpeg" },
  document: { ext: "pdf", mimetype: "application/pdf" },
  video: { ext: "mp4", mimetype: "video/mp4" },
  audio: { ext: "ogg", mimetype: "audio/ogg; codecs=opus" },
};

/** A still valid JPEG of about `size` bytes: the tiny one with a COM segment
 *  of seeded padding after its JFIF header. */
function jpeg(rng, size) {
  const app0End = 20; // SOI (2) + APP0 JFIF segment (18)
  const padLen = Math.max(0, Math.min(65533, size - TINY_JPEG.length - 4));
  const com = Buffer.alloc(4 + padLen);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(padLen + 2, 2);
  com.write(rng.bytes(Math.ceil(padLen / 2)).toString("hex").slice(0, padLen), 4, "latin1");
  return Buffer.concat([TINY_JPEG.subarray(0, app0End), com, TINY_JPEG.subarray(app0End)]);
}

/** A one-page PDF with a correct xref; an unreferenced stream object carries
 *  the padding. */
function pdf(rng, size, text) {
  const padding = rng.bytes(Math.max(16, Math.floor(size / 2) - 400)).toString("hex");
  const content = `BT /F1 12 Tf 10 50 Td (${text.replace(/[^ -~]|[()\\]/g, "_")}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    `<< /Length ${padding.length} >>\nstream\n${padding}\nendstream`,
  ];
  let out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/** An ISO-BMFF (MP4) `ftyp` box, then a `free` box of seeded bytes. */
function mp4(rng, size) {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write("ftypisom", 4, "latin1");
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write("isommp41", 16, "latin1");
  const freeLen = Math.max(8, size - 24);
  const free = Buffer.concat([Buffer.alloc(8), rng.bytes(freeLen - 8)]);
  free.writeUInt32BE(freeLen, 0);
  free.write("free", 4, "latin1");
  return Buffer.concat([ftyp, free]);
}

/** An Ogg page header with an OpusHead packet, then seeded bytes (the CRC is
 *  not computed: only the magic matters here). */
function ogg(rng, size) {
  const head = Buffer.alloc(27 + 1 + 19);
  head.write("OggS", 0, "latin1");
  head.writeUInt8(2, 5); // beginning of stream
  head.writeUInt32LE(0x1234, 14); // serial
  head.writeUInt8(1, 26); // one segment
  head.writeUInt8(19, 27); // of 19 bytes
  head.write("OpusHead", 28, "latin1");
  head.writeUInt8(1, 36); // version
  head.writeUInt8(1, 37); // mono
  head.writeUInt32LE(48000, 40);
  return Buffer.concat([head, rng.bytes(Math.max(0, size - head.length))]);
}

/** The file bytes of one media message (deterministic for a given rng). */
export function makeMediaFile(kind, rng, text) {
  const size = 2048 + rng.int(4096);
  switch (kind) {
    case "image":
      return jpeg(rng, size);
    case "document":
      return pdf(rng, size, text);
    case "video":
      return mp4(rng, size);
    case "audio":
      return ogg(rng, size);
    default:
      throw new Error(`no media for ${kind}`);
  }
}

/** Writes `bytes` to `<root>/<objectName>`, creating the folders. */
export function storeMedia(root, objectName, bytes) {
  const path = join(root, ...objectName.split("/"));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}
