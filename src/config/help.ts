export const HELP = `mcp-signing-proxy — a local stdio MCP server that relays to a remote MCP server
over Streamable HTTP and signs every request.

Usage: mcp-signing-proxy [URL] [flags]        (or set MCP_ENDPOINT)

Endpoint and signer
  URL, --endpoint URL          remote MCP endpoint                      MCP_ENDPOINT
  --signer none|bearer|sigv4   default: auto (sigv4 for AWS URLs or a role ARN,
                               bearer when a token is set)              MCP_SIGNER
Headers and tokens
  -H, --header "Name: value"   static header, repeatable; \${VAR} and \${VAR:-default}
                               are expanded; Name=value also accepted    MCP_HEADERS (one per line)
  --header-file PATH           file of "Name: value" lines             MCP_HEADER_FILE
  --headers-helper CMD         command printing a JSON object of headers (or
                               "Name: value" lines); run without stdin   MCP_HEADERS_HELPER
  --headers-helper-ttl SECONDS re-run after, default 300 (and on 401/403) MCP_HEADERS_HELPER_TTL
  --headers-helper-timeout S   default 10                                MCP_HEADERS_HELPER_TIMEOUT
  --bearer-token-file PATH     token file, re-read when it changes       MCP_BEARER_TOKEN_FILE
                               (or the token itself in)                  MCP_BEARER_TOKEN
AWS SigV4
  --service NAME               signing service (inferred for execute-api, lambda-url,
                               bedrock-agentcore, *.api.aws)             MCP_SIGV4_SERVICE
  --region REGION              signing region: flag > URL > AWS_REGION > AWS_DEFAULT_REGION
  --profile NAME               AWS profile for the default chain         AWS_PROFILE
  --role-arn ARN               role to assume with STS                   ASSUME_ROLE_ARN
  --role-session-name NAME     default mcp-signing-proxy-<user>          ASSUME_ROLE_SESSION_NAME
  --external-id ID                                                       ASSUME_ROLE_EXTERNAL_ID
  --role-duration SECONDS      900..43200, default 3600                  ASSUME_ROLE_DURATION_SECONDS
  --sts-region REGION          default: the signing region               ASSUME_ROLE_STS_REGION
                               STS endpoint override: AWS_ENDPOINT_URL_STS
TLS and network
  --client-cert PATH           PEM client certificate (mTLS)             MCP_CLIENT_CERT
  --client-key PATH            PEM private key                           MCP_CLIENT_KEY
  --client-pfx PATH            PKCS#12 bundle instead of cert+key        MCP_CLIENT_PFX
                               key passphrase (env only)                 MCP_CLIENT_KEY_PASSPHRASE
  --ca-cert PATH               extra trusted CA bundle (added to the defaults)  MCP_CA_CERT
  --insecure                   do not verify the server certificate (never in production)
  --allow-http                 allow http:// to non-loopback hosts       MCP_ALLOW_HTTP=1
  --no-env-proxy               ignore HTTPS_PROXY/HTTP_PROXY/NO_PROXY     MCP_NO_ENV_PROXY=1
  --connect-timeout SECONDS    default 10                                MCP_CONNECT_TIMEOUT
  --max-connections N          connections to the server, default 32     MCP_MAX_CONNECTIONS
Relay and logging
  --max-line-bytes N           largest stdin line, default 33554432      MCP_MAX_LINE_BYTES
  --log-level LEVEL            trace|debug|info|warn|error|silent         MCP_LOG_LEVEL
  --log-file PATH              log here (mode 0600) instead of stderr    MCP_LOG_FILE
  --debug, --silent            shorthands for --log-level debug / silent
  --check                      connect once (initialize, tools/list), report, exit 0/1
  -h, --help, -v, --version

Flags win over environment variables. Secrets are taken from env or files only.
Docs: README.md in the package.
`;
