// Preloaded with --require: makes the optional 'pcap' module look uninstalled.
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'pcap') {
    const err = new Error("Cannot find module 'pcap'");
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
