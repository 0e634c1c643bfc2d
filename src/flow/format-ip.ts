/** Address formatting lives in the decode stage; this re-export keeps existing importers
 *  working (new code should import from ../decode/address.js). */
export { formatIp } from '../decode/address.js';
