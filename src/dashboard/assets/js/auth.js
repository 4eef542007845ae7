// Basic credentials for a cluster with authentication on (etcd 2.x's v2
// auth). Asked for in the page when the API answers HTTP 401, kept in this
// tab's memory only, and sent by the page itself as `Authorization` on
// every request. Requests go out with `credentials: 'omit'`, so the
// browser never stores them in its own password cache: no other site can
// make the browser send them. With authentication off nothing is asked.
import { $ } from './dom.js';

let header = null;
let user = null;
let pending = null;
// Cancelled: stop asking until the user clicks "Sign in".
let declined = false;

export function credentials() {
  return header;
}

// Who the page is signed in as, or null.
export function signedInUser() {
  return header ? user : null;
}

export class AuthDeclined extends Error {}

// Resolves once the user has given credentials (a retry may still fail:
// then this is asked again, saying so). Many requests share one dialog.
export function askCredentials(hadSome) {
  if (declined) return Promise.reject(new AuthDeclined('sign in required'));
  if (!pending) {
    pending = new Promise((resolve, reject) => show(hadSome, resolve, reject)).finally(() => {
      pending = null;
    });
  }
  return pending;
}

function show(hadSome, resolve, reject) {
  $('#login-reason').textContent = hadSome
    ? `The cluster refused the credentials of ${user}.`
    : 'This cluster requires a user and password.';
  $('#login').hidden = false;
  $('#login-user').focus();
  const form = $('#login-form');
  const done = () => {
    $('#login').hidden = true;
    form.onsubmit = null;
    $('#login-cancel').onclick = null;
  };
  form.onsubmit = (e) => {
    e.preventDefault();
    user = $('#login-user').value;
    header = 'Basic ' + base64(`${user}:${$('#login-password').value}`);
    $('#login-password').value = '';
    declined = false;
    done();
    updateAccount();
    resolve();
  };
  $('#login-cancel').onclick = () => {
    declined = true;
    done();
    updateAccount();
    reject(new AuthDeclined('sign in required'));
  };
}

function base64(text) {
  // btoa takes Latin-1; user names and passwords may not be.
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function setupAccount() {
  $('#sign-in').addEventListener('click', () => {
    declined = false;
    askCredentials(false).catch(() => {});
  });
  // Signing out forgets the credentials and everything read with them:
  // the page starts again as the guest.
  $('#sign-out').addEventListener('click', () => {
    header = null;
    user = null;
    location.reload();
  });
  updateAccount();
}

function updateAccount() {
  $('#account-user').textContent = header ? `signed in as ${user}` : '';
  $('#sign-out').hidden = !header;
  $('#sign-in').hidden = !declined || !!header;
}
