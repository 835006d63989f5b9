'use strict';
// A scripted SMSC on the npm `smpp` package, used by smscloud's integration tests as a peer
// that shares no code with the Python stack. Usage: node server.js PORT [ACCOUNTS]
//   PORT      0 picks a free one; "LISTENING <port>" is printed once the server is ready.
//   ACCOUNTS  "id:password[,id:password...]", else $SMSC_ACCOUNTS, else "smscloud:password".
// Stdout carries one line per event (BIND, SUBMIT, DELIVER, UNBIND) with a JSON body.
// Behaviour by destination number suffix:
//   0000001 -> receipt UNDELIV, 0000002 -> receipt EXPIRED, anything else -> DELIVRD;
//   0000003 -> submit_sm_resp ESME_RINVDSTADR (no receipt);
//   0000007 -> also an MO deliver_sm "收到" (UCS-2) from that number to the submit's source.

const smpp = require('smpp');

const port = Number.parseInt(process.argv[2] || '0', 10);
const accounts = new Map(
  (process.argv[3] || process.env.SMSC_ACCOUNTS || 'smscloud:password')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf(':');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);
const RECEIPT_DELAY_MS = Number.parseInt(process.env.SMSC_RECEIPT_DELAY_MS || '50', 10);
const MESSAGE_STATE = { DELIVRD: 2, EXPIRED: 3, UNDELIV: 5 }; // SMPP 3.4 §5.3.2.35

let nextId = 0x5a000000;
const timers = new Set();

function emit(kind, body) {
  process.stdout.write(`${kind} ${JSON.stringify(body)}\n`);
}

function later(fn) {
  const timer = setTimeout(() => {
    timers.delete(timer);
    fn();
  }, RECEIPT_DELAY_MS);
  timers.add(timer);
}

// The library decodes short_message into text; tests want the octets as sent, so each
// session keeps the last PDU body read from its socket and this pulls short_message out.
function rawShortMessage(body) {
  let at = 12; // command_id, command_status, sequence_number (command_length not included)
  const skipCString = () => {
    while (body[at] !== 0) at += 1;
    at += 1;
  };
  skipCString(); // service_type
  at += 2; // source TON, NPI
  skipCString(); // source_addr
  at += 2; // destination TON, NPI
  skipCString(); // destination_addr
  at += 3; // esm_class, protocol_id, priority_flag
  skipCString(); // schedule_delivery_time
  skipCString(); // validity_period
  at += 4; // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
  const length = body[at];
  return body.subarray(at + 1, at + 1 + length);
}

function stamp(date) {
  const two = (n) => String(n).padStart(2, '0');
  return (
    two(date.getUTCFullYear() % 100) +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes())
  );
}

function receipt(session, pdu, messageId, stat, submitted) {
  const delivered = stat === 'DELIVRD';
  const text =
    `id:${messageId} sub:001 dlvrd:${delivered ? '001' : '000'} ` +
    `submit date:${stamp(submitted)} done date:${stamp(new Date())} ` +
    `stat:${stat} err:${delivered ? '000' : '001'} text:`;
  const sent = session.deliver_sm({
    source_addr_ton: pdu.dest_addr_ton,
    source_addr_npi: pdu.dest_addr_npi,
    source_addr: pdu.destination_addr,
    dest_addr_ton: pdu.source_addr_ton,
    dest_addr_npi: pdu.source_addr_npi,
    destination_addr: pdu.source_addr,
    esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
    data_coding: 0,
    short_message: Buffer.from(text, 'ascii'),
    receipted_message_id: messageId,
    message_state: MESSAGE_STATE[stat],
  });
  emit('DELIVER', { kind: 'receipt', message_id: messageId, stat, sent });
}

function mo(session, pdu) {
  const text = '收到';
  const sent = session.deliver_sm({
    source_addr_ton: pdu.dest_addr_ton,
    source_addr_npi: pdu.dest_addr_npi,
    source_addr: pdu.destination_addr,
    dest_addr_ton: pdu.source_addr_ton,
    dest_addr_npi: pdu.source_addr_npi,
    destination_addr: pdu.source_addr,
    esm_class: 0,
    data_coding: 8,
    short_message: Buffer.from(text, 'utf16le').swap16(), // UCS-2, big-endian
  });
  emit('DELIVER', { kind: 'mo', from: pdu.destination_addr, to: pdu.source_addr, text, sent });
}

function onSubmit(session, pdu, body) {
  const sm = rawShortMessage(body);
  const udh = pdu.esm_class & 0x40 && sm.length ? sm.subarray(0, sm[0] + 1) : null;
  const dest = pdu.destination_addr;
  const rejected = dest.endsWith('0000003');
  const messageId = rejected ? null : (nextId++).toString(16).toUpperCase();
  emit('SUBMIT', {
    system_id: session.systemId,
    source_addr_ton: pdu.source_addr_ton,
    source_addr_npi: pdu.source_addr_npi,
    source_addr: pdu.source_addr,
    dest_addr_ton: pdu.dest_addr_ton,
    dest_addr_npi: pdu.dest_addr_npi,
    destination_addr: dest,
    esm_class: pdu.esm_class,
    data_coding: pdu.data_coding,
    registered_delivery: pdu.registered_delivery,
    udh: udh ? udh.toString('hex') : null,
    short_message: sm.toString('hex'),
    message_id: messageId,
  });
  if (rejected) {
    session.send(pdu.response({ command_status: smpp.ESME_RINVDSTADR }));
    return;
  }
  session.send(pdu.response({ message_id: messageId }));
  const submitted = new Date();
  if (pdu.registered_delivery & 1) {
    let stat = 'DELIVRD';
    if (dest.endsWith('0000001')) stat = 'UNDELIV';
    else if (dest.endsWith('0000002')) stat = 'EXPIRED';
    later(() => receipt(session, pdu, messageId, stat, submitted));
  }
  if (dest.endsWith('0000007')) later(() => mo(session, pdu));
}

const BINDS = new Set(['bind_transceiver', 'bind_transmitter', 'bind_receiver']);

const server = smpp.createServer((session) => {
  let lastBody = null;
  const read = session.socket.read.bind(session.socket);
  session.socket.read = (size) => {
    const chunk = read(size);
    if (chunk && size !== 4) lastBody = chunk; // 4 is the command_length read
    return chunk;
  };
  session.on('error', () => {}); // a peer resetting the connection is not our failure
  session.on('pdu', (pdu) => {
    if (BINDS.has(pdu.command)) {
      const ok = !session.systemId && accounts.get(pdu.system_id) === pdu.password;
      emit('BIND', { command: pdu.command, system_id: pdu.system_id, ok });
      if (!ok) {
        session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
        session.close();
        return;
      }
      session.systemId = pdu.system_id;
      session.send(pdu.response({ system_id: 'NPMSMSC' }));
    } else if (pdu.command === 'enquire_link') {
      session.send(pdu.response());
    } else if (pdu.command === 'unbind') {
      emit('UNBIND', { system_id: session.systemId || null });
      session.send(pdu.response(), () => session.close());
    } else if (pdu.command === 'submit_sm') {
      if (!session.systemId) {
        session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
      } else {
        onSubmit(session, pdu, lastBody);
      }
    } else if (!pdu.isResponse()) {
      session.send(pdu.response({ command_status: smpp.ESME_RINVCMDID }));
    }
  });
});

function shutdown() {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  for (const session of [...server.sessions]) session.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(port, '127.0.0.1', () => {
  emit('LISTENING', server.address().port);
});
