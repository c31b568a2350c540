// Signal's client library (libsignal, Node binding) as the anchor for Haven's E2EE
// benchmark. bench/e2ee.py installs it into bench/.anchors/libsignal/ and runs
//
//   node bench.mjs MESSAGES SETUPS MEMBERS GROUP_MESSAGES REPEATS PAYLOAD_BYTES
//
// and reads the one JSON object printed on stdout. Every figure is measured the way
// bench/e2ee.py measures Haven's: one untimed warm-up batch of a tenth of the count (which
// also checks that the plaintext comes back), then REPEATS timed batches of the full count;
// the fastest batch gives the rate.
//
// The stores keep records as objects in memory, like Haven's bench keeps vodozemac objects:
// the figures are the protocol's cost through the library's public (async) API, without any
// serialisation a real client's database would add on either side.

import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import * as Signal from '@signalapp/libsignal-client';

const require = createRequire(import.meta.url);
const VERSION = require('@signalapp/libsignal-client/package.json').version;

class SessionStore extends Signal.SessionStore {
  records = new Map();
  async saveSession(address, record) {
    this.records.set(address.toString(), record);
  }
  async getSession(address) {
    return this.records.get(address.toString()) ?? null;
  }
  async getExistingSessions(addresses) {
    return addresses.map((address) => {
      const record = this.records.get(address.toString());
      if (!record) throw new Error(`no session with ${address}`);
      return record;
    });
  }
}

class IdentityStore extends Signal.IdentityKeyStore {
  known = new Map();
  constructor(identity, registrationId) {
    super();
    this.identity = identity;
    this.registrationId = registrationId;
  }
  async getIdentityKey() {
    return this.identity.privateKey;
  }
  async getLocalRegistrationId() {
    return this.registrationId;
  }
  async saveIdentity(address, key) {
    const before = this.known.get(address.toString());
    this.known.set(address.toString(), key);
    return before && !before.equals(key)
      ? Signal.IdentityChange.ReplacedExisting
      : Signal.IdentityChange.NewOrUnchanged;
  }
  // Trust on first use, then pin: what Haven's client does with a peer's identity key.
  async isTrustedIdentity(address, key) {
    const known = this.known.get(address.toString());
    return !known || known.equals(key);
  }
  async getIdentity(address) {
    return this.known.get(address.toString()) ?? null;
  }
}

class PreKeyStore extends Signal.PreKeyStore {
  records = new Map();
  async savePreKey(id, record) {
    this.records.set(id, record);
  }
  async getPreKey(id) {
    const record = this.records.get(id);
    if (!record) throw new Error(`no pre-key ${id}`);
    return record;
  }
  async removePreKey(id) {
    this.records.delete(id);
  }
}

class SignedPreKeyStore extends Signal.SignedPreKeyStore {
  records = new Map();
  async saveSignedPreKey(id, record) {
    this.records.set(id, record);
  }
  async getSignedPreKey(id) {
    const record = this.records.get(id);
    if (!record) throw new Error(`no signed pre-key ${id}`);
    return record;
  }
}

// One-time Kyber pre-keys, deleted once used (a last-resort key would be kept instead).
class KyberPreKeyStore extends Signal.KyberPreKeyStore {
  records = new Map();
  async saveKyberPreKey(id, record) {
    this.records.set(id, record);
  }
  async getKyberPreKey(id) {
    const record = this.records.get(id);
    if (!record) throw new Error(`no Kyber pre-key ${id}`);
    return record;
  }
  async markKyberPreKeyUsed(id) {
    this.records.delete(id);
  }
}

class SenderKeyStore extends Signal.SenderKeyStore {
  records = new Map();
  async saveSenderKey(sender, distributionId, record) {
    this.records.set(`${distributionId}/${sender}`, record);
  }
  async getSenderKey(sender, distributionId) {
    return this.records.get(`${distributionId}/${sender}`) ?? null;
  }
}

class Device {
  constructor(name, deviceId, registrationId) {
    this.identity = Signal.IdentityKeyPair.generate();
    this.address = Signal.ProtocolAddress.new(name, deviceId);
    this.registrationId = registrationId;
    this.identityStore = new IdentityStore(this.identity, registrationId);
    this.sessions = new SessionStore();
    this.preKeys = new PreKeyStore();
    this.signedPreKeys = new SignedPreKeyStore();
    this.kyberPreKeys = new KyberPreKeyStore();
    this.senderKeys = new SenderKeyStore();
    this.nextKeyId = 1;
    // The signed pre-key is medium-term (rotated every few days, shared by every session set
    // up meanwhile), so it is made once, like the devices' identity keys.
    const signed = Signal.PrivateKey.generate();
    this.signedPreKeyId = 1;
    this.signedPreKey = Signal.SignedPreKeyRecord.new(
      this.signedPreKeyId,
      Date.now(),
      signed.getPublicKey(),
      signed,
      this.identity.privateKey.sign(signed.getPublicKey().serialize()),
    );
    this.signedPreKeys.records.set(this.signedPreKeyId, this.signedPreKey);
  }

  // What a device uploads for one session: a one-time EC pre-key and a one-time Kyber
  // pre-key signed by its identity key, then the bundle the server hands out for them.
  async publishBundle() {
    const id = this.nextKeyId++;
    const preKey = Signal.PrivateKey.generate();
    await this.preKeys.savePreKey(id, Signal.PreKeyRecord.new(id, preKey.getPublicKey(), preKey));
    const kem = Signal.KEMKeyPair.generate();
    const kemSignature = this.identity.privateKey.sign(kem.getPublicKey().serialize());
    await this.kyberPreKeys.saveKyberPreKey(
      id,
      Signal.KyberPreKeyRecord.new(id, Date.now(), kem, kemSignature),
    );
    return Signal.PreKeyBundle.new(
      this.registrationId,
      this.address.deviceId(),
      id,
      preKey.getPublicKey(),
      this.signedPreKeyId,
      this.signedPreKey.publicKey(),
      this.signedPreKey.signature(),
      this.identity.publicKey,
      id,
      kem.getPublicKey(),
      kemSignature,
    );
  }

  // The whole sending side (the ciphertext leaves as bytes, as it would on the wire).
  async encrypt(peer, plaintext) {
    const message = await Signal.signalEncrypt(
      plaintext,
      peer.address,
      this.address,
      this.sessions,
      this.identityStore,
    );
    return [message.type(), message.serialize()];
  }

  async decrypt(peer, type, bytes) {
    if (type === Signal.CiphertextMessageType.PreKey) {
      return Signal.signalDecryptPreKey(
        Signal.PreKeySignalMessage.deserialize(bytes),
        peer.address,
        this.address,
        this.sessions,
        this.identityStore,
        this.preKeys,
        this.signedPreKeys,
        this.kyberPreKeys,
      );
    }
    return Signal.signalDecrypt(
      Signal.SignalMessage.deserialize(bytes),
      peer.address,
      this.address,
      this.sessions,
      this.identityStore,
    );
  }
}

function checkSame(expected, actual, what) {
  if (!Buffer.from(actual).equals(Buffer.from(expected))) {
    throw new Error(`${what}: the plaintext did not come back`);
  }
}

// A warm-up batch (a tenth of the count), then the fastest of `repeats` full batches.
async function bestRate(batch, count, repeats) {
  await batch(Math.max(1, Math.floor(count / 10)), true);
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await batch(count, false);
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return Math.round((count / best) * 10) / 10;
}

// A fresh session per set-up: Bob publishes one-time keys, Alice checks the bundle's
// signatures, runs PQXDH and encrypts a first message, Bob opens the session from it.
async function setups(count, repeats, plaintext) {
  const alice = new Device('alice', 1, 1001);
  const bob = new Device('bob', 1, 1002);
  return bestRate(
    async (n, check) => {
      for (let i = 0; i < n; i++) {
        alice.sessions = new SessionStore();
        bob.sessions = new SessionStore();
        const bundle = await bob.publishBundle();
        await Signal.processPreKeyBundle(
          bundle,
          bob.address,
          alice.address,
          alice.sessions,
          alice.identityStore,
        );
        const [type, bytes] = await alice.encrypt(bob, plaintext);
        const received = await bob.decrypt(alice, type, bytes);
        if (check) checkSame(plaintext, received, 'session set-up');
      }
    },
    count,
    repeats,
  );
}

// Round trips on one established session, directions alternating so both ratchets turn.
async function messages(count, repeats, plaintext) {
  const alice = new Device('alice', 1, 1001);
  const bob = new Device('bob', 1, 1002);
  await Signal.processPreKeyBundle(
    await bob.publishBundle(),
    bob.address,
    alice.address,
    alice.sessions,
    alice.identityStore,
  );
  const [type, bytes] = await alice.encrypt(bob, plaintext);
  await bob.decrypt(alice, type, bytes);
  const turns = [
    [alice, bob],
    [bob, alice],
  ];
  let sent = 0;
  return bestRate(
    async (n, check) => {
      for (let i = 0; i < n; i++) {
        const [sender, receiver] = turns[sent++ % 2];
        const [kind, ciphertext] = await sender.encrypt(receiver, plaintext);
        const received = await receiver.decrypt(sender, kind, ciphertext);
        if (check) checkSame(plaintext, received, '1:1 message');
      }
    },
    count,
    repeats,
  );
}

// Sender keys: the distribution message reaches every member before timing (Haven shares
// its Megolm session key before timing too); one group message is one groupEncrypt by the
// sender and one groupDecrypt by each member.
async function group(members, count, repeats, plaintext) {
  const distributionId = '7e1c2a3b-4d5e-4f60-8172-93a4b5c6d7e8';
  const sender = new Device('sender', 1, 2000);
  const others = Array.from({ length: members }, (_, i) => new Device(`member-${i}`, 1, 3000 + i));
  const skdm = await Signal.SenderKeyDistributionMessage.create(
    sender.address,
    distributionId,
    sender.senderKeys,
  );
  const wire = skdm.serialize();
  for (const member of others) {
    await Signal.processSenderKeyDistributionMessage(
      sender.address,
      Signal.SenderKeyDistributionMessage.deserialize(wire),
      member.senderKeys,
    );
  }
  return bestRate(
    async (n, check) => {
      for (let i = 0; i < n; i++) {
        const message = await Signal.groupEncrypt(
          sender.address,
          distributionId,
          sender.senderKeys,
          plaintext,
        );
        const bytes = message.serialize();
        for (const member of others) {
          const received = await Signal.groupDecrypt(sender.address, member.senderKeys, bytes);
          if (check) checkSame(plaintext, received, 'group message');
        }
      }
    },
    count,
    repeats,
  );
}

async function main() {
  const args = process.argv.slice(2).map(Number);
  if (args.length !== 6 || args.some((n) => !Number.isInteger(n) || n < 1)) {
    process.stderr.write(
      'usage: node bench.mjs MESSAGES SETUPS MEMBERS GROUP_MESSAGES REPEATS PAYLOAD_BYTES\n',
    );
    process.exit(2);
  }
  const [messageCount, setupCount, members, groupMessages, repeats, payloadBytes] = args;
  const plaintext = new Uint8Array(payloadBytes).fill(0x78); // b"x" * payload, as Haven sends
  const result = {
    library: '@signalapp/libsignal-client',
    version: VERSION,
    node: process.versions.node,
    payload_bytes: payloadBytes,
    repeats,
    setups: { count: setupCount, per_s: await setups(setupCount, repeats, plaintext) },
    messages: { count: messageCount, per_s: await messages(messageCount, repeats, plaintext) },
    group: {
      members,
      count: groupMessages,
      per_s: await group(members, groupMessages, repeats, plaintext),
    },
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
