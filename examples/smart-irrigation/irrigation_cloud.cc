// AppB (SGX enclave in the cloud): the same irrigation control as the
// gateway, with more data. It receives
//   moisture  the soil sensor's readings (Drv1, field1)
//   valve     the valve's state (Drv2)
//   survey    a simulated aerial-survey feed over a direct connection from the
//             survey provider (the operator here): "field2=38 field3=52
//             stress1=70", moisture per field in percent and canopy stress
//             (0..100, from NDVI) per field
// and aggregates over all fields every period (`aggregate`). Its opening
// threshold for field1 rises with field1's stress: 30 + stress/10.
//
// It serves a read-only status page over HTTPS from inside the enclave: the
// TLS key is generated here and never leaves it; the operator learns the
// certificate's SHA-256 over an authenticated request (`certificate`) and
// pins it. GET / (HTML) and GET /status.json; anything else is refused.
// The server starts at the first aggregation, on 127.0.0.1:STATUS_PORT.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

#include "aex/module.h"

#ifndef STATUS_PORT
#define STATUS_PORT 6243
#endif

SM_OUTPUT(valve_cmd);

namespace {

constexpr int kCloseAt = 45;

struct Field {
  int moisture = -1;  // percent, -1 unknown
  int stress = 0;     // canopy stress 0..100 (survey)
  std::string source;
};

std::map<std::string, Field> fields;
std::string valve_now = "unknown";
int demand_open = 0;
unsigned long readings = 0, surveys = 0, aggregations = 0, pages = 0;
double average = -1;
std::string advice = "waiting for data";

SSL_CTX* tls = nullptr;
int listen_fd = -1;
std::string fingerprint;

int OpenBelow(const Field& f) { return 30 + f.stress / 10; }

std::string Text(const unsigned char* data, size_t len) {
  return std::string(reinterpret_cast<const char*>(data), len);
}

void Decide() {
  const Field& f = fields["field1"];
  if (f.moisture < 0) return;
  if (f.moisture < OpenBelow(f)) demand_open = 1;
  if (f.moisture >= kCloseAt) demand_open = 0;
  const char* cmd = demand_open ? "open" : "closed";
  valve_cmd(reinterpret_cast<const unsigned char*>(cmd), strlen(cmd));
}

std::string Json() {
  std::ostringstream o;
  o << "{\"valve\":\"" << valve_now << "\",\"demand\":\"" << (demand_open ? "open" : "closed")
    << "\",\"average_moisture\":" << average << ",\"advice\":\"" << advice
    << "\",\"readings\":" << readings << ",\"surveys\":" << surveys
    << ",\"aggregations\":" << aggregations << ",\"fields\":{";
  bool first = true;
  for (const auto& [name, f] : fields) {
    o << (first ? "" : ",") << "\"" << name << "\":{\"moisture\":" << f.moisture
      << ",\"stress\":" << f.stress << ",\"source\":\"" << f.source
      << "\",\"open_below\":" << OpenBelow(f) << "}";
    first = false;
  }
  o << "}}";
  return o.str();
}

std::string Html() {
  std::ostringstream o;
  o << "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" "
       "content=\"2\"><title>Smart irrigation</title></head><body>"
       "<h1>Smart irrigation</h1><p>Served from inside AppB's enclave (read-only).</p>"
    << "<p>Valve: <b>" << valve_now << "</b> (cloud demand: " << (demand_open ? "open" : "closed")
    << ")</p><p>Average soil moisture: " << average << "% &mdash; " << advice << "</p>"
    << "<table border=\"1\"><tr><th>field</th><th>moisture %</th><th>stress</th>"
       "<th>opens below</th><th>source</th></tr>";
  for (const auto& [name, f] : fields) {
    o << "<tr><td>" << name << "</td><td>" << f.moisture << "</td><td>" << f.stress
      << "</td><td>" << OpenBelow(f) << "</td><td>" << f.source << "</td></tr>";
  }
  o << "</table><p>" << readings << " sensor readings, " << surveys << " surveys, "
    << aggregations << " aggregations.</p></body></html>";
  return o.str();
}

void Serve(int lfd, void*) {
  int c = accept(lfd, nullptr, nullptr);
  if (c < 0) return;
  // A slow or silent client may hold the module's loop for 2 s at most.
  timeval tv{2, 0};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(tls);
  SSL_set_fd(ssl, c);
  if (SSL_accept(ssl) == 1) {
    std::string req;
    char buf[2048];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string line = req.substr(0, req.find("\r\n"));
    std::string status = "200 OK", type = "text/html; charset=utf-8", body;
    if (line.rfind("GET ", 0) != 0) {
      status = "405 Method Not Allowed";
      body = "read-only\n";
      type = "text/plain";
    } else if (line.rfind("GET / ", 0) == 0) {
      body = Html();
    } else if (line.rfind("GET /status.json ", 0) == 0) {
      body = Json() + "\n";
      type = "application/json";
    } else {
      status = "404 Not Found";
      body = "not found\n";
      type = "text/plain";
    }
    ++pages;
    std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                       "\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nAllow: GET\r\nConnection: close\r\n\r\n" + body;
    SSL_write(ssl, resp.data(), static_cast<int>(resp.size()));
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  // Drain what the client still sends (briefly) so that closing does not
  // reset the connection before it has read the answer.
  shutdown(c, SHUT_WR);
  timeval brief{0, 200000};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &brief, sizeof brief);
  char sink[1024];
  while (read(c, sink, sizeof sink) > 0) {
  }
  close(c);
}

// A fresh P-256 key and a self-signed certificate, made inside the enclave.
bool MakeCertificate() {
  tls = SSL_CTX_new(TLS_server_method());
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (!tls || !key || !cert) return false;
  SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("appB.smart-irrigation"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (!X509_sign(cert, key, EVP_sha256()) || !X509_digest(cert, EVP_sha256(), md, &md_len) ||
      SSL_CTX_use_certificate(tls, cert) != 1 || SSL_CTX_use_PrivateKey(tls, key) != 1) {
    return false;
  }
  char hex[3];
  for (unsigned i = 0; i < md_len; ++i) {
    snprintf(hex, sizeof hex, "%02x", md[i]);
    fingerprint += hex;
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return true;
}

// Listens on STATUS_PORT; retried at every aggregation until it works (a
// previous instance may still hold the port during `aex update`).
bool StartServer() {
  if (!tls && !MakeCertificate()) return false;
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(STATUS_PORT);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd, 16) != 0 || aex_watch_fd(listen_fd, Serve, nullptr) != AEX_OK) {
    if (aggregations % 10 == 0) aex_log("cannot serve the status page on port %d", STATUS_PORT);
    close(listen_fd);
    listen_fd = -1;
    return false;
  }
  aex_log("status page on https://127.0.0.1:%d/ (certificate SHA-256 %s)", STATUS_PORT,
          fingerprint.c_str());
  return true;
}

}  // namespace

SM_INPUT(moisture, data, len) {
  std::string t = Text(data, len);
  Field& f = fields["field1"];
  f.moisture = atoi(t.c_str());
  f.source = "sensor (Drv1)";
  ++readings;
  Decide();
}

SM_INPUT(valve, data, len) { valve_now = Text(data, len); }

// "field2=38 field3=52 stress1=70": moisture and stress per field. field1's
// moisture comes from its sensor only.
SM_INPUT(survey, data, len) {
  std::istringstream in(Text(data, len));
  std::string tok;
  while (in >> tok) {
    auto eq = tok.find('=');
    if (eq == std::string::npos) continue;
    std::string key = tok.substr(0, eq);
    int v = atoi(tok.c_str() + eq + 1);
    if (v < 0 || v > 100) continue;
    if (key.rfind("stress", 0) == 0 && key.size() > 6) {
      fields["field" + key.substr(6)].stress = v;
    } else if (key.rfind("field", 0) == 0 && key != "field1") {
      Field& f = fields[key];
      f.moisture = v;
      f.source = "aerial survey";
    }
  }
  ++surveys;
  Decide();
}

// Periodic: aggregate over every field known, and serve the page.
SM_ENTRY(aggregate, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  if (listen_fd < 0) StartServer();
  int n = 0, sum = 0;
  std::string dry;
  for (const auto& [name, f] : fields) {
    if (f.moisture < 0) continue;
    ++n;
    sum += f.moisture;
    if (f.moisture < OpenBelow(f)) dry += (dry.empty() ? "" : ", ") + name;
  }
  average = n ? static_cast<double>(sum) / n : -1;
  advice = n == 0 ? "waiting for data" : dry.empty() ? "no field needs water" : "irrigate " + dry;
  ++aggregations;
  return 0;
}

// `aex update` carries the aggregated data to the new instance (its TLS key
// stays behind: the new instance makes its own and vouches for it).
SM_SAVE_STATE(buf, cap) {
  std::ostringstream o;
  o << readings << ' ' << surveys << ' ' << aggregations << ' ' << demand_open << ' '
    << valve_now << '\n';
  for (const auto& [name, f] : fields) {
    o << name << ' ' << f.moisture << ' ' << f.stress << ' ' << f.source << '\n';
  }
  std::string s = o.str();
  if (s.size() > cap) return cap + 1;
  memcpy(buf, s.data(), s.size());
  return s.size();
}

SM_RESTORE_STATE(data, len) {
  std::istringstream in(Text(data, len));
  in >> readings >> surveys >> aggregations >> demand_open >> valve_now;
  std::string name;
  while (in >> name) {
    Field& f = fields[name];
    in >> f.moisture >> f.stress;
    in.get();
    std::getline(in, f.source);
  }
  aex_log("restored %zu fields from the previous instance", fields.size());
}

// The status page's certificate fingerprint, over an authenticated request.
SM_HANDLER(certificate, data, len, resp, cap) {
  (void)data, (void)len;
  if (fingerprint.size() > cap) return 0;
  memcpy(resp, fingerprint.data(), fingerprint.size());
  return fingerprint.size();
}
