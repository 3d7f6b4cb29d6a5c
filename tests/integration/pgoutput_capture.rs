//! pgoutput decoding of bytes captured live from a real server.
