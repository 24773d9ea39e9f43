package io.kubeheapdump.agent;

/** The little JSON the agent writes (no dependencies). */
final class Json {
  private Json() {}

  static String string(String s) {
    if (s == null) return "null";
    StringBuilder out = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c == '\n') out.append("\\n");
      else if (c == '\t') out.append("\\t");
      else if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029) {
        out.append(String.format("\\u%04x", (int) c));
      } else out.append(c);
    }
    return out.append('"').toString();
  }
}
