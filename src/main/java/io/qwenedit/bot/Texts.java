package io.qwenedit.bot;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every text the bot shows, one resource file per language ({@code bot/messages_<lang>.properties}, UTF-8), chosen by
 * the person's Telegram language with English as the fallback. Placeholders are written {@code {name}}.
 */
public final class Texts {
  public static final Set<String> LANGUAGES = Set.of("en", "ru");
  private static final Map<String, Map<String, String>> ALL = Map.of("en", load("en"), "ru", load("ru"));

  private Texts() {}

  static Map<String, String> load(String lang) {
    String path = "bot/messages_" + lang + ".properties";
    try (InputStream in = Texts.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      Properties p = new Properties();
      try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
        p.load(r);
      }
      Map<String, String> out = new TreeMap<>();
      p.forEach((k, v) -> out.put((String) k, (String) v));
      return Map.copyOf(out);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + path, e);
    }
  }

  /** "ru" for a Russian-speaking person ("ru", "ru-RU"), "en" for English, else the fallback. */
  public static String language(String telegramLanguageCode, String fallback) {
    if (telegramLanguageCode != null) {
      String base = telegramLanguageCode.toLowerCase(Locale.ROOT);
      int dash = base.indexOf('-');
      if (dash > 0) {
        base = base.substring(0, dash);
      }
      if (LANGUAGES.contains(base)) {
        return base;
      }
    }
    return LANGUAGES.contains(fallback) ? fallback : "en";
  }

  /** The text for {@code key} in {@code lang} (English when missing there) with {name} placeholders filled. */
  public static String get(String lang, String key, Object... namesAndValues) {
    String template = ALL.getOrDefault(lang, ALL.get("en")).get(key);
    if (template == null) {
      template = ALL.get("en").get(key);
    }
    if (template == null) {
      throw new IllegalArgumentException("no text " + key);
    }
    if (namesAndValues.length == 0) {
      return template;
    }
    StringBuilder sb = new StringBuilder(template.length() + 32);
    int i = 0;
    while (i < template.length()) {
      char c = template.charAt(i);
      int close = c == '{' ? template.indexOf('}', i) : -1;
      if (close > i) {
        String name = template.substring(i + 1, close);
        Object value = lookup(name, namesAndValues);
        if (value != null) {
          sb.append(value);
          i = close + 1;
          continue;
        }
      }
      sb.append(c);
      i++;
    }
    return sb.toString();
  }

  private static Object lookup(String name, Object[] namesAndValues) {
    for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
      if (name.equals(namesAndValues[i])) {
        return namesAndValues[i + 1];
      }
    }
    return null;
  }

  /** The raw templates of one language (tests compare the languages' keys and placeholders). */
  static Map<String, String> templates(String lang) {
    return ALL.get(lang);
  }
}
