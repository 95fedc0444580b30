/** The operator's version: in its User-Agent and in the REST API's OpenAPI document. Kept equal to package.json's (a unit test checks). */
export const OPERATOR_VERSION = '0.1.0';
