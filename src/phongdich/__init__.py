"""phongdich: nền tảng phòng dịch."""
