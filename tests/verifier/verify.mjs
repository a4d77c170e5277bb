// An independent verifier of Assessor's credentials, from another ecosystem: Digital Bazaar's JavaScript
// implementations of Verifiable Credentials and the eddsa-rdfc-2022 Data Integrity cryptosuite.
//
//   node verify.mjs BUNDLE.json
//
// BUNDLE holds {"credential": {...}, "documents": {"<url>": {...}}}: the credential, and what the app serves at the
// addresses it names (verification methods, controller document, status list credential). JSON-LD contexts come
// from these packages' own copies (VC 2.0, security v2) and the Open Badges 3.0.3 context from the test data;
// nothing is fetched. Prints {"verified": bool, "revoked": bool|null, "errors": [...]} and exits 0 only when the
// credential verifies and is not revoked.

import {readFileSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import {contexts as securityContexts} from '@digitalbazaar/security-context';

const here = dirname(fileURLToPath(import.meta.url));
const OB_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';

function loaderFor(documents) {
  const known = new Map([...credentialsContexts, ...securityContexts]);
  known.set(OB_CONTEXT, JSON.parse(
    readFileSync(join(here, '..', 'data', 'interop', 'openbadges-3.0', 'context-3.0.3.json'), 'utf8')));
  for(const [url, document] of Object.entries(documents)) {
    known.set(url, document);
  }
  return async url => {
    if(!known.has(url)) {
      throw new Error(`not available offline: ${url}`);
    }
    return {contextUrl: null, documentUrl: url, document: structuredClone(known.get(url))};
  };
}

function errorsOf(result) {
  const found = [];
  const walk = value => {
    if(!value) return;
    if(value instanceof Error || value.message) found.push(String(value.message || value));
    for(const key of ['error', 'errors', 'results', 'statusResult']) {
      const inner = value[key];
      if(Array.isArray(inner)) inner.forEach(walk); else if(inner && typeof inner === 'object') walk(inner);
    }
  };
  walk(result);
  return [...new Set(found)];
}

const bundle = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const documentLoader = loaderFor(bundle.documents || {});
const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
let revoked = null;

// The status list credential must itself verify; then the credential's bit is read from it.
async function checkStatus({credential}) {
  const entry = credential.credentialStatus;
  const {document: list} = await documentLoader(entry.statusListCredential);
  const listResult = await vc.verifyCredential({credential: list, suite, documentLoader});
  if(!listResult.verified) {
    return {verified: false, error: new Error('the status list credential does not verify')};
  }
  const encoded = list.credentialSubject.encodedList;
  const bits = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));
  const index = Number(entry.statusListIndex);
  revoked = Boolean(bits[index >> 3] & (0x80 >> (index & 7)));
  return revoked ? {verified: false, error: new Error('revoked')} : {verified: true};
}

let result;
try {
  result = await vc.verifyCredential({credential: bundle.credential, suite, documentLoader, checkStatus});
} catch(error) {
  result = {verified: false, error};
}
console.log(JSON.stringify({verified: result.verified, revoked, errors: errorsOf(result)}));
process.exit(result.verified ? 0 : 1);
