import { python } from './harness.js'

export interface OutgoingMail {
  from: string
  /** The envelope sender (MAIL FROM); by default the address of \`from\`. */
  envelopeFrom?: string
  to: string[]
  cc?: string[]
  /** Envelope recipients no header names. */
  bcc?: string[]
  subject: string
  text: string
  html?: string
  attachments?: { filename: string; contentType: string; base64: string }[]
}

/** Python's email package builds each message (RFC 2047 subjects, MIME parts) and smtplib sends it. */
const SEND = `
import base64, json, smtplib, sys
from email.message import EmailMessage
address, port, mails = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
with smtplib.SMTP(address, port, timeout=10) as smtp:
    for mail in mails:
        message = EmailMessage()
        message['From'] = mail['from']
        message['To'] = ', '.join(mail['to'])
        if mail.get('cc'): message['Cc'] = ', '.join(mail['cc'])
        message['Subject'] = mail['subject']
        message.set_content(mail['text'])
        if mail.get('html'): message.add_alternative(mail['html'], subtype='html')
        for attachment in mail.get('attachments', []):
            maintype, subtype = attachment['contentType'].split('/')
            message.add_attachment(base64.b64decode(attachment['base64']), maintype=maintype, subtype=subtype, filename=attachment['filename'])
        recipients = mail['to'] + mail.get('cc', []) + mail.get('bcc', [])
        sender = mail.get('envelopeFrom') or mail['from'].split('<')[-1].rstrip('>')
        smtp.send_message(message, from_addr=sender, to_addrs=[r.split('<')[-1].rstrip('>') for r in recipients])
print(json.dumps({'sent': len(mails)}))
`

export async function sendMail(address: string, port: number, mails: OutgoingMail[]): Promise<void> {
  await python<{ sent: number }>(SEND, [address, String(port), JSON.stringify(mails)])
}
