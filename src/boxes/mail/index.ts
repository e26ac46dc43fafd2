/** The public face of boxes/mail: what other modules may use of it. */
export { MailClient, type MessageSummary, type ParsedMessage } from './client.js'
export { saveAttachments, type SavedAttachment } from './save-attachments.js'
